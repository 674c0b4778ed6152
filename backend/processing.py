"""Rows that a worker processes: status, claims, failure reasons and the sweeper.

A processable row moves ``pending → processing → ready | failed`` and never stalls:

* a task *claims* the row (an atomic UPDATE) before working on it; a row already
  ``ready`` or ``failed`` is not claimed again, so a redelivered message is harmless;
* each claim counts an attempt; a row whose worker died ``MAX_ATTEMPTS`` times ends
  ``failed`` instead of looping forever;
* the sweeper (on beat) re-queues a row stuck in ``processing`` (or never picked up while
  ``pending``) past its deadline once, then marks it ``failed`` with a reason.

Each concrete model registers the task that processes it (:func:`register_processable`)
so the sweeper can re-queue it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class ProcessingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Processable(models.Model):
    """Abstract base of every row a worker processes."""

    status = models.CharField(
        max_length=10,
        choices=ProcessingStatus.choices,
        default=ProcessingStatus.PENDING,
        db_index=True,
    )
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requeues = models.PositiveSmallIntegerField(default=0)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


P = TypeVar("P", bound=Processable)


def processing_claim(*, model: type[P], pk: Any, now: datetime | None = None) -> P | None:
    """Take the row for processing; ``None`` when there is nothing to do.

    Nothing to do: the row is gone, already ``ready``/``failed``, or has used up its
    attempts (then it is marked ``failed`` here).
    """
    now = now or timezone.now()
    claimable = Q(status__in=[ProcessingStatus.PENDING, ProcessingStatus.PROCESSING])
    updated = model._default_manager.filter(claimable, pk=pk, attempts__lt=MAX_ATTEMPTS).update(
        status=ProcessingStatus.PROCESSING,
        attempts=F("attempts") + 1,
        processing_started_at=now,
        status_changed_at=now,
    )
    if updated:
        return model._default_manager.get(pk=pk)
    exhausted = model._default_manager.filter(claimable, pk=pk, attempts__gte=MAX_ATTEMPTS)
    if exhausted.update(
        status=ProcessingStatus.FAILED,
        failure_reason=f"Gave up after {MAX_ATTEMPTS} attempts: the worker stopped each time.",
        status_changed_at=now,
    ):
        logger.warning("processing.gave_up model=%s pk=%s", model.__name__, pk)
    return None


def processing_succeed(*, obj: Processable, fields: list[str] | None = None) -> None:
    """Save ``fields`` and mark the row ``ready``, in one UPDATE."""
    obj.status = ProcessingStatus.READY
    obj.failure_reason = ""
    obj.status_changed_at = timezone.now()
    obj.save(update_fields=[*(fields or []), "status", "failure_reason", "status_changed_at"])


def processing_fail(*, model: type[Processable], pk: Any, reason: str) -> None:
    """Mark the row ``failed`` with a reason a person can read (unless already ready)."""
    model._default_manager.filter(pk=pk).exclude(status=ProcessingStatus.READY).update(
        status=ProcessingStatus.FAILED,
        failure_reason=reason[:2000],
        status_changed_at=timezone.now(),
    )
    logger.info("processing.failed model=%s pk=%s reason=%s", model.__name__, pk, reason[:200])


def processing_reset(*, queryset: models.QuerySet[P], **fields: Any) -> int:
    """Put rows back to ``pending`` with a fresh attempt count (their inputs changed, or
    the encoder did), plus any model-specific ``fields``; the caller queues them."""
    return queryset.update(
        status=ProcessingStatus.PENDING,
        failure_reason="",
        attempts=0,
        requeues=0,
        status_changed_at=timezone.now(),
        **fields,
    )


def processing_enqueue(*, send: Callable[[], None], what: str) -> None:
    """Queue a row's task once the transaction commits (a worker never sees a row that was
    rolled back).

    The row is already saved when the broker is asked; if the broker is unreachable then,
    the request still succeeds: the row stays ``pending`` and the sweeper queues it again
    past its deadline. (Failing the request would make the app retry and store it twice.)
    """

    def guarded() -> None:
        try:
            send()
        except Exception:  # any broker or connection error: the sweeper covers this row
            logger.warning("processing.enqueue_failed what=%s", what, exc_info=True)

    transaction.on_commit(guarded)


@dataclass(frozen=True)
class ProcessableKind:
    model: type[Processable]
    enqueue: Callable[[Any], None]
    #: how long a row may stay ``processing`` (or ``pending``) before the sweeper acts
    deadline: timedelta


_REGISTRY: dict[str, ProcessableKind] = {}


def register_processable(
    *, model: type[Processable], enqueue: Callable[[Any], None], deadline: timedelta
) -> None:
    """Tell the sweeper about a model and how to queue one of its rows again."""
    _REGISTRY[model._meta.label] = ProcessableKind(model=model, enqueue=enqueue, deadline=deadline)


def registered_processables() -> list[ProcessableKind]:
    return list(_REGISTRY.values())


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    failed: int


def processing_sweep(*, kind: ProcessableKind, now: datetime | None = None) -> SweepResult:
    """Re-queue rows stuck past the deadline once; fail the ones already re-queued."""
    now = now or timezone.now()
    cutoff = now - kind.deadline
    manager = kind.model._default_manager
    stuck = manager.filter(
        Q(status=ProcessingStatus.PROCESSING, processing_started_at__lt=cutoff)
        | Q(status=ProcessingStatus.PENDING, status_changed_at__lt=cutoff)
    )
    seconds = int(kind.deadline.total_seconds())
    failed = stuck.filter(requeues__gte=1).update(
        status=ProcessingStatus.FAILED,
        failure_reason=(
            f"Processing did not finish within {seconds} s, twice; "
            "the photo may be too complex, or the workers are down. Please try again."
        ),
        status_changed_at=now,
    )
    requeued_pks = []
    with transaction.atomic():
        for pk in (
            stuck.filter(requeues=0)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        ):
            requeued_pks.append(pk)
        manager.filter(pk__in=requeued_pks).update(
            status=ProcessingStatus.PENDING,
            requeues=F("requeues") + 1,
            attempts=0,
            status_changed_at=now,
        )
        for pk in requeued_pks:
            processing_enqueue(
                send=lambda pk=pk: kind.enqueue(pk), what=f"{kind.model.__name__} {pk}"
            )
    if requeued_pks or failed:
        logger.warning(
            "processing.swept model=%s requeued=%d failed=%d",
            kind.model.__name__,
            len(requeued_pks),
            failed,
        )
    return SweepResult(requeued=len(requeued_pks), failed=failed)
