"""Processing rows never stall: claims count attempts, the sweeper re-queues once, then fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.closet.models import ClosetItem
from backend.processing import (
    MAX_ATTEMPTS,
    ProcessableKind,
    ProcessingStatus,
    processing_claim,
    processing_fail,
    processing_sweep,
)

pytestmark = pytest.mark.django_db

DEADLINE = timedelta(minutes=10)


@pytest.fixture
def item(user):
    return ClosetItem.objects.create(user=user, photo="closet/x/photo.jpg")


@pytest.fixture
def requeued():
    return []


@pytest.fixture
def kind(requeued):
    return ProcessableKind(model=ClosetItem, enqueue=requeued.append, deadline=DEADLINE)


def test_a_claim_moves_the_row_to_processing_and_counts_the_attempt(item):
    claimed = processing_claim(model=ClosetItem, pk=item.pk)

    assert claimed.status == ProcessingStatus.PROCESSING
    assert claimed.attempts == 1
    assert claimed.processing_started_at is not None


@pytest.mark.parametrize("final", [ProcessingStatus.READY, ProcessingStatus.FAILED])
def test_a_finished_row_is_not_claimed_again(item, final):
    ClosetItem.objects.filter(pk=item.pk).update(status=final)

    assert processing_claim(model=ClosetItem, pk=item.pk) is None
    assert ClosetItem.objects.get(pk=item.pk).status == final


def test_a_row_whose_worker_died_every_time_ends_failed(item):
    for _ in range(MAX_ATTEMPTS):
        assert processing_claim(model=ClosetItem, pk=item.pk) is not None

    assert processing_claim(model=ClosetItem, pk=item.pk) is None
    item.refresh_from_db()
    assert item.status == ProcessingStatus.FAILED
    assert f"after {MAX_ATTEMPTS} attempts" in item.failure_reason


def test_fail_keeps_a_ready_row_ready(item):
    ClosetItem.objects.filter(pk=item.pk).update(status=ProcessingStatus.READY)

    processing_fail(model=ClosetItem, pk=item.pk, reason="late failure")

    assert ClosetItem.objects.get(pk=item.pk).status == ProcessingStatus.READY


def test_sweeper_leaves_rows_within_the_deadline_alone(
    item, kind, requeued, django_capture_on_commit_callbacks
):
    started = timezone.now()
    processing_claim(model=ClosetItem, pk=item.pk, now=started)

    with django_capture_on_commit_callbacks(execute=True):
        result = processing_sweep(kind=kind, now=started + DEADLINE - timedelta(seconds=1))

    assert (result.requeued, result.failed) == (0, 0)
    assert requeued == []
    assert ClosetItem.objects.get(pk=item.pk).status == ProcessingStatus.PROCESSING


def test_sweeper_requeues_a_stuck_row_once_then_fails_it(
    item, kind, requeued, django_capture_on_commit_callbacks
):
    started = timezone.now()
    processing_claim(model=ClosetItem, pk=item.pk, now=started)

    with django_capture_on_commit_callbacks(execute=True):
        first = processing_sweep(kind=kind, now=started + DEADLINE + timedelta(seconds=1))
    item.refresh_from_db()
    assert (first.requeued, first.failed) == (1, 0)
    assert requeued == [item.pk]
    assert item.status == ProcessingStatus.PENDING
    assert item.requeues == 1

    # The re-queued run gets stuck too.
    restarted = started + DEADLINE + timedelta(seconds=5)
    processing_claim(model=ClosetItem, pk=item.pk, now=restarted)
    with django_capture_on_commit_callbacks(execute=True):
        second = processing_sweep(kind=kind, now=restarted + DEADLINE + timedelta(seconds=1))

    item.refresh_from_db()
    assert (second.requeued, second.failed) == (0, 1)
    assert requeued == [item.pk]
    assert item.status == ProcessingStatus.FAILED
    assert "did not finish within 600 s" in item.failure_reason


def test_sweeper_requeues_a_row_never_picked_up(
    item, kind, requeued, django_capture_on_commit_callbacks
):
    later = item.status_changed_at + DEADLINE + timedelta(minutes=1)

    with django_capture_on_commit_callbacks(execute=True):
        result = processing_sweep(kind=kind, now=later)

    assert result.requeued == 1
    assert requeued == [item.pk]


def test_the_closet_registers_itself_with_the_sweeper():
    from backend.processing import registered_processables

    assert ClosetItem in {k.model for k in registered_processables()}
