"""The closet API for the app: upload, list, edit, delete, outfits; a user sees only theirs."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.storage import default_storage

from apps.closet.models import ClosetItem, ClosetSuggestion, Outfit
from tests.images import garment_photo

pytestmark = pytest.mark.django_db


def upload(client, data: bytes | None = None, name: str = "shirt.jpg", **fields):
    photo = io.BytesIO(garment_photo() if data is None else data)
    photo.name = name
    return client.post("/api/v1/closet/items", {"photo": photo, **fields}, format="multipart")


def stored_files() -> list[str]:
    root = default_storage.location
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files if "closet" in d]


def test_upload_answers_201_pending_at_once_and_queues_processing(
    auth_client, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "worker.tasks.closet.process_closet_item.delay", lambda pk: queued.append(pk)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(auth_client, category="top", name="IMG_0042")  # no extension

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["category"] == "top"
    assert body["photo_url"].endswith(".jpg")
    assert (body["photo_width"], body["photo_height"]) == (240, 320)
    assert queued == [body["id"]]


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "empty.jpg", "image_empty"),
        (b"just some text, not a photo", "notes.jpg", "not_an_image"),
        (garment_photo()[:300], "cut.jpg", "image_truncated"),
    ],
)
def test_a_bad_photo_is_a_400_and_nothing_is_stored(auth_client, data, name, code):
    before = stored_files()

    response = upload(auth_client, data=data, name=name)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert ClosetItem.objects.count() == 0
    assert stored_files() == before


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ("[10, 10, 5, 50]", "x1 < x2"),
        ("[0, 0, 900, 900]", "outside"),
        ("[1, 2, 3]", "[x1, y1, x2, y2]"),
        ("[10, 10, 12, 12]", "smaller than 8"),
    ],
)
def test_a_bad_box_is_a_400_naming_the_problem(auth_client, box, message):
    response = upload(auth_client, box=box)

    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert ClosetItem.objects.count() == 0


def test_a_box_is_accepted_as_a_form_field(auth_client):
    response = upload(auth_client, box="20,30,200,300")

    assert response.status_code == 201
    assert response.json()["client_box"] == [20.0, 30.0, 200.0, 300.0]


def test_uploads_are_throttled_per_user_with_a_retry_time(auth_client, settings):
    from django.core.cache import cache
    from rest_framework.settings import api_settings

    cache.clear()
    rates = dict(api_settings.DEFAULT_THROTTLE_RATES) | {"uploads": "2/min"}
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        codes = [upload(auth_client).status_code for _ in range(3)]
        third = upload(auth_client)
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
        cache.clear()

    assert codes[:2] == [201, 201]
    assert third.status_code == 429
    assert third.json()["error"]["details"]["retry_after"] > 0
    assert "Retry-After" in third


def test_list_filters_by_category_and_status_and_paginates(auth_client, user):
    for category in ["top", "top", "bottom"]:
        upload(auth_client, category=category)
    ClosetItem.objects.filter(category="bottom").update(status="ready")

    tops = auth_client.get("/api/v1/closet/items?category=top").json()
    ready = auth_client.get("/api/v1/closet/items?status=ready").json()
    page = auth_client.get("/api/v1/closet/items?page_size=2").json()

    assert tops["count"] == 2
    assert [i["category"] for i in ready["results"]] == ["bottom"]
    assert len(page["results"]) == 2 and page["next"]


def test_patch_changes_the_editable_fields(auth_client):
    item_id = upload(auth_client).json()["id"]

    response = auth_client.patch(
        f"/api/v1/closet/items/{item_id}",
        {"category": "outer", "colour": "navy", "name": "coat", "notes": "winter"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["category"] == "outer"
    item = ClosetItem.objects.get(pk=item_id)
    assert (item.colour, item.name, item.notes, item.category_from_user) == (
        "navy",
        "coat",
        "winter",
        True,
    )


def test_delete_removes_the_row_and_its_files(auth_client, django_capture_on_commit_callbacks):
    item_id = upload(auth_client).json()["id"]
    item = ClosetItem.objects.get(pk=item_id)
    photo_name = item.photo.name
    assert default_storage.exists(photo_name)

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(f"/api/v1/closet/items/{item_id}")

    assert response.status_code == 204
    assert not ClosetItem.objects.filter(pk=item_id).exists()
    assert not default_storage.exists(photo_name)


def test_a_suggestion_becomes_an_item_in_one_call(auth_client, user):
    item_id = upload(auth_client).json()["id"]
    suggestion = ClosetSuggestion.objects.create(
        item_id=item_id, box=[5, 5, 100, 100], category="bottom", score=0.8
    )

    response = auth_client.post(f"/api/v1/closet/items/suggestions/{suggestion.pk}/accept")
    again = auth_client.post(f"/api/v1/closet/items/suggestions/{suggestion.pk}/accept")

    assert response.status_code == 201
    body = response.json()
    assert body["client_box"] == [5, 5, 100, 100]
    assert body["category"] == "bottom"
    assert body["status"] == "pending"
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "already_accepted"


def test_outfits_crud_with_the_users_own_items(auth_client):
    first = upload(auth_client).json()["id"]
    second = upload(auth_client).json()["id"]

    created = auth_client.post(
        "/api/v1/closet/outfits",
        {"name": "Monday", "occasion": "work", "season": "autumn", "items": [first, second]},
        format="json",
    )
    outfit_id = created.json()["id"]
    renamed = auth_client.patch(
        f"/api/v1/closet/outfits/{outfit_id}",
        {"name": "Tuesday", "items": [second]},
        format="json",
    )
    listed = auth_client.get("/api/v1/closet/outfits").json()
    deleted = auth_client.delete(f"/api/v1/closet/outfits/{outfit_id}")

    assert created.status_code == 201
    assert sorted(created.json()["items"]) == sorted([first, second])
    assert renamed.json()["name"] == "Tuesday" and renamed.json()["items"] == [second]
    assert listed["count"] == 1
    assert deleted.status_code == 204
    assert not Outfit.objects.exists()


def test_direct_upload_needs_s3_and_says_so(auth_client):
    response = auth_client.post("/api/v1/closet/uploads")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "direct_upload_unavailable"


def test_anonymous_requests_are_401(api_client):
    assert api_client.get("/api/v1/closet/items").status_code == 401
    assert api_client.post("/api/v1/closet/outfits", {}).status_code == 401


class TestIsolation:
    """Every closet and outfit endpoint answers 404 for another user's ids."""

    @pytest.fixture
    def others(self, other_user):
        from rest_framework.test import APIClient

        client = APIClient()
        client.force_authenticate(other_user)
        item_id = upload(client).json()["id"]
        outfit_id = client.post(
            "/api/v1/closet/outfits", {"name": "theirs", "items": [item_id]}, format="json"
        ).json()["id"]
        suggestion = ClosetSuggestion.objects.create(item_id=item_id, box=[1, 1, 50, 50])
        return {"item": item_id, "outfit": outfit_id, "suggestion": suggestion.pk}

    def test_items_of_another_user_are_404(self, auth_client, others):
        url = f"/api/v1/closet/items/{others['item']}"
        assert auth_client.get(url).status_code == 404
        assert auth_client.patch(url, {"name": "mine"}, format="json").status_code == 404
        assert auth_client.delete(url).status_code == 404
        assert ClosetItem.objects.filter(pk=others["item"], name="").exists()

    def test_list_shows_only_own_items(self, auth_client, others):
        assert auth_client.get("/api/v1/closet/items").json()["count"] == 0

    def test_outfits_of_another_user_are_404(self, auth_client, others):
        url = f"/api/v1/closet/outfits/{others['outfit']}"
        assert auth_client.get(url).status_code == 404
        assert auth_client.patch(url, {"name": "mine"}, format="json").status_code == 404
        assert auth_client.delete(url).status_code == 404
        assert auth_client.get("/api/v1/closet/outfits").json()["count"] == 0

    def test_an_outfit_cannot_hold_another_users_item(self, auth_client, others):
        response = auth_client.post(
            "/api/v1/closet/outfits", {"name": "x", "items": [others["item"]]}, format="json"
        )
        assert response.status_code == 400
        assert "items" in response.json()["error"]["details"]

    def test_another_users_suggestion_is_404(self, auth_client, others):
        url = f"/api/v1/closet/items/suggestions/{others['suggestion']}/accept"
        assert auth_client.post(url).status_code == 404


def test_an_upload_succeeds_while_the_broker_is_down_and_stays_pending_for_the_sweeper(
    auth_client, django_capture_on_commit_callbacks, monkeypatch
):
    import kombu.exceptions

    def broker_down(pk):
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr("worker.tasks.closet.process_closet_item.delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(auth_client)

    assert response.status_code == 201
    assert ClosetItem.objects.get(pk=response.json()["id"]).status == "pending"
    assert ClosetItem.objects.count() == 1


def test_uploads_go_through_while_the_throttles_cache_is_unreachable(auth_client):
    from django.core.cache import caches
    from django.test import override_settings

    closed = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    with override_settings(CACHES=closed):
        caches["default"]
        response = upload(auth_client)

    assert response.status_code == 201
