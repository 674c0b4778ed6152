"""Closet photos: detect, crop, encode, profile (the ``vision`` queue)."""

from __future__ import annotations

from apps.closet.models import ClosetItem
from apps.closet.services import closet_item_process
from worker.base import ProcessingTask
from worker.celery import app


@app.task(
    bind=True,
    base=ProcessingTask,
    name="worker.tasks.process_closet_item",
    processable_model=ClosetItem,
)
def process_closet_item(self: ProcessingTask, item_id: int) -> None:
    closet_item_process(item_id=item_id)
