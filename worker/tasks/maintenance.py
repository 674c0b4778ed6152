"""Periodic upkeep on the ``default`` queue."""

from __future__ import annotations

from backend.processing import processing_sweep, registered_processables
from worker.celery import app


@app.task(
    name="worker.tasks.sweep_stuck_processing",
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
)
def sweep_stuck_processing() -> None:
    """Re-queue once, then fail, every processable row stuck past its deadline."""
    for kind in registered_processables():
        processing_sweep(kind=kind)
