from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "apps.recommendations"
    label = "recommendations"
    verbose_name = "Searches and recommendations"

    def ready(self) -> None:
        from datetime import timedelta

        from django.conf import settings

        from apps.accounts.deletion import user_cleanup_register
        from apps.recommendations.models import Search
        from apps.recommendations.services import search_user_data
        from backend.processing import register_processable

        user_cleanup_register(name="searches", collect=search_user_data)

        # The tasks the services queue, imported once at start: two request threads
        # importing them for the first time at once could deadlock on the import lock.
        import worker.tasks  # noqa: F401

        def enqueue(pk: int) -> None:
            from worker.tasks.searches import process_search

            process_search.delay(pk)

        register_processable(
            model=Search,
            enqueue=enqueue,
            deadline=timedelta(seconds=settings.PROCESSING_DEADLINE_SECONDS),
        )
