"""The services tier: an image added commits, travels through Redis, and a real Celery
worker (in a thread) processes it on the vision queue."""

from __future__ import annotations

import time

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

from apps.catalog import services
from apps.catalog.models import ProcessingStatus, ProductImage
from tests.apps.catalog.conftest import ProductFactory, image_bytes

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def redis_worker(redis_url, monkeypatch):
    """A worker consuming both queues from Redis; the service's sends go to that broker."""
    from worker.celery import app as project_app

    app = Celery("catalog-test", broker=redis_url, set_as_current=False)
    app.conf.update(
        task_queues=project_app.conf.task_queues,
        task_default_queue="default",
        task_routes="worker.routes.route_task",
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
    )
    import worker.tasks.catalog  # noqa: F401  (registers the shared tasks on the new app too)

    app.finalize()
    monkeypatch.setattr(project_app, "send_task", app.send_task)
    with start_worker(
        app, perform_ping_check=False, queues=["vision", "default"], shutdown_timeout=20
    ):
        yield app


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_an_added_image_is_processed_by_a_worker_through_redis(postgres, redis_worker, analyser):
    product = ProductFactory(category="dress", style_tags=["romantic"])

    image = services.product_image_add(product=product, data=image_bytes((180, 40, 120)))

    assert wait_for(
        lambda: ProductImage.objects.get(pk=image.pk).status == ProcessingStatus.READY
    ), ProductImage.objects.get(pk=image.pk).failure_reason
    crop = ProductImage.objects.get(pk=image.pk).crops.get()
    assert crop.category == "dress" and crop.encoder == "mean-colour"
