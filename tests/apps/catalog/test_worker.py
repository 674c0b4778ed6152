"""The services tier: an added product image commits, travels through the real Redis, and a
real worker process analyses it with the default models; its crop joins the index at once."""

from __future__ import annotations

import time

import pytest

from apps.catalog import services
from apps.catalog.models import ProcessingStatus, ProductImage
from tests.apps.catalog.conftest import ProductFactory, image_bytes

pytestmark = pytest.mark.services


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_an_added_image_is_processed_by_a_worker_through_redis(celery_worker_process):
    services.style_rows_ensure()
    product = ProductFactory(category="dress", style_tags=["romantic"])

    image = services.product_image_add(product=product, data=image_bytes((180, 40, 120)))

    assert wait_for(
        lambda: (
            ProductImage.objects.get(pk=image.pk).status != ProcessingStatus.PENDING
            and ProductImage.objects.get(pk=image.pk).status != ProcessingStatus.PROCESSING
        )
    ), celery_worker_process.log()[-2000:]
    image.refresh_from_db()
    assert image.status == ProcessingStatus.READY, image.failure_reason
    crop = image.crops.get()
    assert crop.category == "dress"
    assert crop.encoder == "descriptor"
    assert crop.style_source == services.CURATED_STYLE_SOURCE
