"""Search and look photos: detect people and garments, encode, profile (``vision`` queue)."""

from __future__ import annotations

from apps.recommendations.models import Search
from apps.recommendations.services import search_process
from worker.base import ProcessingTask
from worker.celery import app


@app.task(
    bind=True, base=ProcessingTask, name="worker.tasks.process_search", processable_model=Search
)
def process_search(self: ProcessingTask, search_id: int) -> None:
    search_process(search_id=search_id)
