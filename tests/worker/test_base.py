"""A processing task that ends in an error leaves its row failed with a reason."""

from __future__ import annotations

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from apps.catalog.models import ProductImage
from apps.closet.models import ClosetItem
from backend.processing import ProcessingStatus
from worker.base import BadInput
from worker.tasks.catalog import process_product_image
from worker.tasks.closet import process_closet_item

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (SoftTimeLimitExceeded(), "took longer than 120 s"),
        (BadInput("The photo is a screenshot of a spreadsheet."), "screenshot of a spreadsheet"),
        (OperationalError("could not connect"), "unavailable after 5 retries"),
        (RuntimeError("boom"), "Unexpected error: RuntimeError: boom"),
    ],
)
def test_a_task_that_gives_up_fails_its_row_with_a_reason(user, error, reason):
    item = ClosetItem.objects.create(user=user, photo="x.jpg", status=ProcessingStatus.PROCESSING)

    process_closet_item.on_failure(error, "task-id", (item.pk,), {}, None)

    item.refresh_from_db()
    assert item.status == ProcessingStatus.FAILED
    assert reason in item.failure_reason


def test_product_images_share_the_policy():
    from tests.apps.catalog.conftest import ProductFactory

    image = ProductImage.objects.create(
        product=ProductFactory(), file="catalog/x.jpg", status=ProcessingStatus.PROCESSING
    )

    process_product_image.on_failure(SoftTimeLimitExceeded(), "task-id", (image.pk,), {}, None)

    image.refresh_from_db()
    assert image.status == ProcessingStatus.FAILED
    assert "took longer than 300 s" in image.failure_reason
    assert process_product_image.acks_late and process_product_image.reject_on_worker_lost
