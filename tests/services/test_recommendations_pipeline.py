"""Shop the look over real HTTP with a real worker on the real Redis and PostgreSQL: a
closet photo and a search photo are processed by the worker; what the user owns stays out."""

from __future__ import annotations

import shutil

import pytest
import requests
from django.conf import settings

from tests.apps.recommendations.conftest import build_catalog
from tests.conftest import bearer_for
from tests.services.test_closet_pipeline import poll

pytestmark = pytest.mark.services


def test_an_owned_product_stays_out_of_a_searchs_recommendations(
    celery_worker_process, live_server, user
):
    shutil.rmtree(settings.INDEX_DIR, ignore_errors=True)
    catalog = build_catalog(categories=("top",))
    owned = catalog.product("top", 4)
    headers = {"Authorization": f"Bearer {bearer_for(user, base_url=live_server.url)}"}
    api = f"{live_server.url}/api/v1"

    item = requests.post(
        f"{api}/closet/items",
        headers=headers,
        data={"category": "top"},
        files={"photo": ("mine.jpg", catalog.photos[owned.pk], "image/jpeg")},
        timeout=30,
    ).json()
    assert (
        poll(f"{api}/closet/items/{item['id']}", headers, {"ready", "failed"})["status"] == "ready"
    )

    search = requests.post(
        f"{api}/searches",
        headers=headers,
        data={"category": "top", "wait": "8"},
        files={"photo": ("tv.jpg", catalog.photos[owned.pk], "image/jpeg")},
        timeout=30,
    )
    assert search.status_code in (200, 202), search.text
    body = poll(f"{api}/searches/{search.json()['id']}", headers, {"ready", "failed"})
    assert body["status"] == "ready", body["failure_reason"]
    garment = body["garments"][0]
    assert garment["crop_url"] and garment["top_styles"]

    answer = requests.get(
        f"{api}/garments/{garment['id']}/recommendations", headers=headers, timeout=30
    ).json()
    shown = requests.get(
        f"{api}/garments/{garment['id']}/recommendations",
        params={"include_owned": "true"},
        headers=headers,
        timeout=30,
    ).json()

    assert owned.pk not in [r["id"] for r in answer["results"]]
    assert answer["left_out_owned"] >= 1
    assert answer["results"], "the other tops are still recommended"
    assert shown["results"][0]["id"] == owned.pk and shown["results"][0]["owned"] is True
