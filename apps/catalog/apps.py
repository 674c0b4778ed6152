from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from datetime import timedelta

        from django.conf import settings

        from apps.catalog.models import ProductImage
        from backend.processing import register_processable

        def enqueue(pk: int) -> None:
            from worker.celery import app

            app.send_task("worker.tasks.catalog.process_product_image", args=[pk])

        register_processable(
            model=ProductImage,
            enqueue=enqueue,
            deadline=timedelta(seconds=settings.PROCESSING_DEADLINE_SECONDS),
        )
