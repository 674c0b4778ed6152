"""Celery tasks: thin, each takes ids, calls one service and returns nothing."""

from worker.tasks import catalog, closet, maintenance, searches

__all__ = ["catalog", "closet", "maintenance", "searches"]
