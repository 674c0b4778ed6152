"""Celery tasks: thin, each takes ids, calls one service and returns nothing."""

from worker.tasks import maintenance

__all__ = ["maintenance"]
