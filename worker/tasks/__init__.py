"""Celery tasks: thin, each takes ids, calls one service and returns nothing."""
