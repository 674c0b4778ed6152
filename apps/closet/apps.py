from django.apps import AppConfig


class ClosetConfig(AppConfig):
    name = "apps.closet"
    label = "closet"
    verbose_name = "Closet"

    def ready(self) -> None:
        from datetime import timedelta

        from django.conf import settings

        from apps.accounts.deletion import user_cleanup_register
        from apps.closet.models import ClosetItem
        from apps.closet.services import closet_user_data
        from backend.processing import register_processable

        user_cleanup_register(name="closet", collect=closet_user_data)

        def enqueue(pk: int) -> None:
            from worker.tasks.closet import process_closet_item

            process_closet_item.delay(pk)

        register_processable(
            model=ClosetItem,
            enqueue=enqueue,
            deadline=timedelta(seconds=settings.PROCESSING_DEADLINE_SECONDS),
        )
