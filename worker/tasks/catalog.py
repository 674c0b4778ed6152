"""Catalog tasks: process a product image (``vision``), rebuild and maintain the indexes."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from apps.catalog.models import ProductImage
from worker.base import ProcessingTask
from worker.celery import app


@app.task(
    bind=True,
    base=ProcessingTask,
    name="worker.tasks.catalog.process_product_image",
    processable_model=ProductImage,
    soft_time_limit=300,
    time_limit=360,
)
def process_product_image(self: ProcessingTask, image_id: int) -> None:
    """The same retry and failure policy as every photo; running twice is harmless (the
    service skips an image already processed for its current bytes)."""
    from apps.catalog import services

    services.product_image_process(image_id=image_id)


@shared_task(
    name="worker.tasks.catalog.rebuild_index",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=2,
    soft_time_limit=1800,
    time_limit=1900,
)
def rebuild_index(category: str) -> None:
    from apps.catalog import services

    services.index_rebuild(category=category)


@shared_task(
    name="worker.tasks.catalog.maintain_indexes",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=2,
    soft_time_limit=1800,
    time_limit=1900,
)
def maintain_indexes() -> None:
    """Rebuild the indexes whose delta passed its size or age (beat)."""
    from apps.catalog import services

    services.index_maintain()
