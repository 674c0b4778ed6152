"""Celery tasks: thin, each takes ids, calls one service and returns nothing."""

from worker.tasks import closet, maintenance, searches

__all__ = ["closet", "maintenance", "searches"]
