"""The Celery app, its queues, routes and beat schedule, and the tasks."""

from worker.celery import app

__all__ = ["app"]
