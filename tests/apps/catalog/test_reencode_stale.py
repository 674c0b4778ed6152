"""python manage.py reencode_stale: vectors of an earlier encoder are remade."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from apps.catalog.models import ProductImage
from apps.closet.models import ClosetItem
from backend.processing import ProcessingStatus
from ml.descriptor import DescriptorEncoder

RUNNING = DescriptorEncoder().encoder_id


@pytest.fixture
def queued(monkeypatch):
    """Names of the tasks sent to the broker (recorded, not run)."""
    from worker.celery import app

    names: list[str] = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args=None, kwargs=None, **kw: names.append(name)
    )
    return names


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("reencode_stale", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def stale_and_current(analyser, settings, tmp_path, user):
    """6 demo products encoded by the test analyser (not the running encoder) and two
    closet items: one of an earlier descriptor, one of the running one."""
    settings.INDEX_DIR = tmp_path
    call_command("load_demo", "--products", "6", stdout=io.StringIO(), stderr=io.StringIO())
    old = ClosetItem.objects.create(
        user=user,
        photo="closet/old.jpg",
        category="top",
        encoder="descriptor@2",
        status=ProcessingStatus.READY,
        attempts=3,
        requeues=1,
    )
    current = ClosetItem.objects.create(
        user=user,
        photo="closet/new.jpg",
        category="top",
        encoder=RUNNING,
        status=ProcessingStatus.READY,
    )
    return old, current


def test_a_dry_run_counts_and_changes_nothing(stale_and_current, queued):
    out = run("--dry-run")

    assert f"Running encoder {RUNNING}: 6 product images and 1 closet items" in out
    assert "would be queued" in out
    assert not ProductImage.objects.exclude(status=ProcessingStatus.READY).exists()
    assert not queued


def test_stale_images_and_items_go_back_to_the_worker_and_current_ones_stay(
    stale_and_current, queued, django_capture_on_commit_callbacks
):
    old, current = stale_and_current
    with django_capture_on_commit_callbacks(execute=True):
        out = run()

    assert "6 product images and 1 closet items of another encoder queued" in out
    assert ProductImage.objects.filter(status=ProcessingStatus.PENDING).count() == 6
    old.refresh_from_db()
    current.refresh_from_db()
    assert (old.status, old.attempts, old.requeues) == (ProcessingStatus.PENDING, 0, 0)
    assert current.status == ProcessingStatus.READY
    tasks = [name.rsplit(".", 1)[-1] for name in queued]
    assert tasks.count("process_closet_item") == 1
    assert len(tasks) == 7
