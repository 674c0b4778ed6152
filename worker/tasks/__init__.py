"""Celery tasks: thin, each takes ids, calls one service and returns nothing."""

# Each module registers its tasks when the Celery app autodiscovers this package.
from worker.tasks import catalog  # noqa: F401
