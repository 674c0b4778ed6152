"""The closet pipeline end to end: HTTP upload → a real worker on the real Redis → ready."""

from __future__ import annotations

import time

import pytest
import requests
from django.db import connection

from apps.closet.models import ClosetItem, ClosetSuggestion
from backend.processing import ProcessingStatus
from tests.conftest import bearer_for
from tests.images import garment_photo

pytestmark = pytest.mark.services


def token_headers(user, live_server) -> dict[str, str]:
    return {"Authorization": f"Bearer {bearer_for(user, base_url=live_server.url)}"}


def poll(url: str, headers: dict[str, str], until: set[str], timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = requests.get(url, headers=headers, timeout=10).json()
        if body["status"] in until:
            return body
        time.sleep(0.3)
    raise AssertionError(f"{url} stayed {body['status']} for {timeout} s: {body}")


def test_an_upload_over_http_becomes_ready_with_crop_embedding_and_styles(
    celery_worker_process, live_server, user
):
    headers = token_headers(user, live_server)
    response = requests.post(
        f"{live_server.url}/api/v1/closet/items",
        files={"photo": ("tee.jpg", garment_photo(), "image/jpeg")},
        data={"category": "top"},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    item_url = f"{live_server.url}/api/v1/closet/items/{response.json()['id']}"

    body = poll(item_url, headers, {"ready", "failed"})

    assert body["status"] == "ready", body["failure_reason"] + celery_worker_process.log()[-2000:]
    assert body["crop_url"]
    assert requests.get(body["crop_url"], timeout=10).headers["Content-Type"] == "image/jpeg"
    assert len(body["style_vector"]) == 23
    assert body["top_styles"]
    item = ClosetItem.objects.get(pk=body["id"])
    assert item.embedding and item.encoder.startswith("descriptor@")


def test_a_bad_photo_over_http_is_400_and_leaves_no_row_or_file(live_server, user, postgres):
    from django.core.files.storage import default_storage

    before = default_storage.listdir("closet") if default_storage.exists("closet") else ([], [])
    response = requests.post(
        f"{live_server.url}/api/v1/closet/items",
        files={"photo": ("tee.jpg", b"GIF89a not really", "image/jpeg")},
        headers=token_headers(user, live_server),
        timeout=30,
    )
    after = default_storage.listdir("closet") if default_storage.exists("closet") else ([], [])

    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"not_an_image", "image_type_unsupported"}
    assert ClosetItem.objects.count() == 0
    assert after == before


@pytest.mark.slow
def test_a_worker_killed_mid_task_leaves_nothing_stuck_or_doubled(
    celery_worker_process, live_server, user, tmp_path
):
    """SIGKILL the worker while it processes an item; a new worker finishes the job."""
    import torch
    import torchvision

    weights = tmp_path / "resnet50.pt"
    torch.save(torchvision.models.resnet50(weights=None).state_dict(), weights)
    # A slower encoder (ResNet50 loads in about a second) gives a window to kill in.
    celery_worker_process.stop()
    celery_worker_process.env |= {
        "ML_ENCODER": "resnet50",
        "ML_ENCODER_WEIGHTS": str(weights),
        "CELERY_VISIBILITY_TIMEOUT": "5",
    }
    celery_worker_process.start()

    headers = token_headers(user, live_server)
    response = requests.post(
        f"{live_server.url}/api/v1/closet/items",
        files={"photo": ("tee.jpg", garment_photo(), "image/jpeg")},
        data={"category": "top"},
        headers=headers,
        timeout=30,
    )
    item_id = response.json()["id"]
    deadline = time.monotonic() + 60
    while ClosetItem.objects.get(pk=item_id).status != ProcessingStatus.PROCESSING:
        assert time.monotonic() < deadline, celery_worker_process.log()[-2000:]
        time.sleep(0.02)
    celery_worker_process.kill()
    assert ClosetItem.objects.get(pk=item_id).status == ProcessingStatus.PROCESSING

    celery_worker_process.start()
    body = poll(f"{live_server.url}/api/v1/closet/items/{item_id}", headers, {"ready", "failed"})

    item = ClosetItem.objects.get(pk=item_id)
    assert body["status"] in {"ready", "failed"}
    assert body["status"] == "ready" or body["failure_reason"]
    assert item.attempts == 2
    assert ClosetItem.objects.filter(user=user).count() == 1
    assert ClosetSuggestion.objects.filter(item=item).count() == 0
    assert not ClosetItem.objects.filter(status=ProcessingStatus.PROCESSING).exists()
    connection.close()
