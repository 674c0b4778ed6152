"""The retry and time-limit policy shared by the tasks that process rows.

Transient failures (database, cache/broker, storage connection errors) retry with
exponential backoff; bad input raises :class:`BadInput` (or a subclass registered in
``PERMANENT_ERRORS``) and ends the row ``failed`` with a reason, without retrying. A task
whose retries run out, or that passes its soft time limit, also ends its row ``failed``.
"""

from __future__ import annotations

import logging
from typing import Any

import botocore.exceptions
import kombu.exceptions
import redis.exceptions
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    ConnectionError,
    TimeoutError,
)


class BadInput(Exception):
    """The row's input can never be processed (an undecodable photo, say): no retry."""


class ProcessingTask(Task):  # type: ignore[misc]
    """Base of tasks that process one :class:`backend.processing.Processable` row.

    Subclasses set ``processable_model`` and take the row's primary key as their one
    argument. Running twice is harmless (the row is claimed first), so messages are
    acknowledged late and re-delivered when the worker dies.
    """

    abstract = True
    processable_model: Any = None
    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_backoff_max = 120
    retry_jitter = True
    max_retries = 5
    soft_time_limit = 120
    time_limit = 180

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        from backend.processing import processing_fail

        pk = args[0] if args else next(iter(kwargs.values()), None)
        if self.processable_model is None or pk is None:
            return
        if isinstance(exc, SoftTimeLimitExceeded):
            reason = f"Processing took longer than {self.soft_time_limit} s and was stopped."
        elif isinstance(exc, BadInput):
            reason = str(exc)
        elif isinstance(exc, TRANSIENT_ERRORS):
            reason = f"A service was unavailable after {self.max_retries} retries: {exc}"
        else:
            reason = f"Unexpected error: {type(exc).__name__}: {exc}"
        logger.warning("task.failed task=%s pk=%s reason=%s", self.name, pk, reason[:200])
        processing_fail(model=self.processable_model, pk=pk, reason=reason)
