"""Shop the look: similar products minus what the user owns, feedback, style-matched shops,
the wannabe look, the feed, the style profile; a user reaches only their own searches."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.cache import cache

from apps.catalog.models import ProductCrop
from apps.recommendations.models import Search
from tests.apps.recommendations.conftest import SHOP_STYLES, add_to_closet, analysed_search

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def item_vector(item) -> np.ndarray:
    return np.frombuffer(bytes(item.embedding), dtype="<f4")


def recommendations(client, garment_id: int, **params):
    response = client.get(f"/api/v1/garments/{garment_id}/recommendations", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_search_photo_finds_its_product_first(auth_client, user, catalog):
    target = catalog.product("top", 4)
    search = analysed_search(user, catalog.photos[target.pk], category="top")
    garment = search.garments.get()

    body = recommendations(auth_client, garment.pk, limit=5)

    assert body["results"][0]["id"] == target.pk
    assert body["results"][0]["similarity"] > 0.99
    first = body["results"][0]
    assert {"price", "shop", "purchase_url", "image_url", "style_match"} <= set(first)
    assert all(r["category"] == "top" for r in body["results"])


def test_an_owned_product_never_appears_unless_asked_for(auth_client, user, catalog):
    owned = catalog.product("dress", 2)
    add_to_closet(user, catalog.photos[owned.pk], "dress")
    garment = analysed_search(user, catalog.photos[owned.pk], category="dress").garments.get()

    default = recommendations(auth_client, garment.pk, limit=8)
    shown = recommendations(auth_client, garment.pk, limit=8, include_owned="true")

    assert owned.pk not in [r["id"] for r in default["results"]]
    assert default["left_out_owned"] >= 1
    assert len(default["results"]) == 8
    marked = [r for r in shown["results"] if r["id"] == owned.pk]
    assert marked and marked[0]["owned"] is True
    assert marked[0]["owned_because"] == "like an item in your closet"


def test_i_own_this_removes_a_product_at_once(auth_client, user, catalog):
    target = catalog.product("bottom", 1)
    garment = analysed_search(user, catalog.photos[target.pk], category="bottom").garments.get()
    assert recommendations(auth_client, garment.pk)["results"][0]["id"] == target.pk

    said = auth_client.post(
        f"/api/v1/products/{target.pk}/feedback", {"kind": "owned"}, format="json"
    )
    after = recommendations(auth_client, garment.pk)

    assert said.status_code == 201
    assert target.pk not in [r["id"] for r in after["results"]]
    assert after["left_out_owned"] == 1


def test_not_interested_hides_a_product_and_can_be_taken_back(auth_client, user, catalog):
    target = catalog.product("outer", 0)
    garment = analysed_search(user, catalog.photos[target.pk], category="outer").garments.get()

    auth_client.post(
        f"/api/v1/products/{target.pk}/feedback", {"kind": "not_interested"}, format="json"
    )
    hidden = recommendations(auth_client, garment.pk, include_owned="true")
    undone = auth_client.delete(f"/api/v1/products/{target.pk}/feedback?kind=not_interested")
    back = recommendations(auth_client, garment.pk)

    assert target.pk not in [r["id"] for r in hidden["results"]]
    assert hidden["left_out_dismissed"] == 1
    assert undone.status_code == 204
    assert back["results"][0]["id"] == target.pk


def test_filters_price_and_shop_apply(auth_client, user, catalog):
    product = catalog.product("top", 0)
    garment = analysed_search(user, catalog.photos[product.pk], category="top").garments.get()
    shop_id = product.shop_id

    cheap = recommendations(auth_client, garment.pk, price_max=15000, limit=20)
    one_shop = recommendations(auth_client, garment.pk, shop=shop_id, limit=20)
    bad = auth_client.get(
        f"/api/v1/garments/{garment.pk}/recommendations", {"price_min": 5, "price_max": 1}
    )

    assert cheap["results"] and all(r["price"] <= 15000 for r in cheap["results"])
    assert one_shop["results"] and all(r["shop"]["id"] == shop_id for r in one_shop["results"])
    assert bad.status_code == 400 and "price_min" in bad.json()["error"]["details"]


def test_style_shops_answer_three_shops_of_three_matching_the_dominant_style(
    auth_client, user, catalog
):
    target = catalog.product("dress", 7)  # a Romance Room dress
    garment = analysed_search(user, catalog.photos[target.pk], category="dress").garments.get()

    body = auth_client.get(f"/api/v1/garments/{garment.pk}/shops").json()

    assert body["dominant_style"] == "romantic"
    assert len(body["shops"]) == 3
    assert all(len(shop["products"]) == 3 for shop in body["shops"])
    assert body["shops"][0]["name"] == "Romance Room"
    shares = [shop["style_share"] for shop in body["shops"]]
    assert shares == sorted(shares, reverse=True)


def test_the_wannabe_look_marks_owned_and_missing_garments(auth_client, user, catalog):
    owned = catalog.product("top", 3)
    item = add_to_closet(user, catalog.photos[owned.pk], "top")
    # The top least like the one owned: a garment the user clearly lacks.
    missing = min(
        catalog.products["top"],
        key=lambda p: float(
            item_vector(ProductCrop.objects.get(image__product=p)) @ item_vector(item)
        ),
    )
    have = analysed_search(user, catalog.photos[owned.pk], category="top", kind=Search.Kind.LOOK)
    lack = analysed_search(user, catalog.photos[missing.pk], category="top", kind=Search.Kind.LOOK)

    have_body = auth_client.get(f"/api/v1/looks/{have.pk}").json()["comparison"]
    lack_body = auth_client.get(f"/api/v1/looks/{lack.pk}").json()["comparison"]

    assert have_body["owned_share"] == 1.0
    assert have_body["garments"][0]["owned"] is True
    assert have_body["garments"][0]["recommendations"]["results"] == []
    assert lack_body["owned_share"] == 0.0
    missing_garment = lack_body["garments"][0]
    assert missing_garment["owned"] is False
    assert missing_garment["recommendations"]["results"][0]["id"] == missing.pk
    assert missing_garment["recommendations"]["results"][0]["purchase_url"]


def test_cached_answers_die_when_the_closet_changes(auth_client, user, catalog):
    target = catalog.product("bottom", 5)
    garment = analysed_search(user, catalog.photos[target.pk], category="bottom").garments.get()
    before = recommendations(auth_client, garment.pk)
    assert before["results"][0]["id"] == target.pk
    assert recommendations(auth_client, garment.pk) == before  # served again (cached)

    item = add_to_closet(user, catalog.photos[target.pk], "bottom")
    with_item = recommendations(auth_client, garment.pk)
    auth_client.delete(f"/api/v1/closet/items/{item.pk}")
    without_item = recommendations(auth_client, garment.pk)

    assert target.pk not in [r["id"] for r in with_item["results"]]
    assert without_item["results"][0]["id"] == target.pk


def test_the_feed_follows_the_users_style_and_leaves_out_owned_and_dismissed(
    auth_client, user, catalog
):
    street = [p for ps in catalog.products.values() for p in ps if p.shop.name == "Street Lab"]
    for product in street[:2]:
        add_to_closet(user, catalog.photos[product.pk], product.category)
    auth_client.post(
        f"/api/v1/products/{street[2].pk}/feedback", {"kind": "not_interested"}, format="json"
    )

    page = auth_client.get("/api/v1/feed", {"page_size": 8}).json()
    ids = [p["id"] for p in page["results"]]

    assert page["count"] > 0
    assert not {street[0].pk, street[1].pk, street[2].pk} & set(ids)
    assert "street" in page["results"][0]["style_tags"]
    assert len({p["category"] for p in page["results"][:4]}) >= 3


def test_the_style_profile_comes_from_the_closet(auth_client, user, catalog):
    classic = catalog.product("outer", 4)
    assert classic.shop.name == "Maison Classic"
    add_to_closet(user, catalog.photos[classic.pk], "outer")

    body = auth_client.get("/api/v1/me/style").json()

    assert body["source"] == "closet"
    assert body["top"][0]["style"] == SHOP_STYLES["Maison Classic"]
    assert len(body["styles"]) == 23


class TestAccess:
    def test_another_users_garments_searches_and_looks_are_404(
        self, auth_client, other_user, catalog
    ):
        product = catalog.product("top", 0)
        theirs = analysed_search(other_user, catalog.photos[product.pk], category="top")
        look = analysed_search(other_user, catalog.photos[product.pk], kind=Search.Kind.LOOK)
        garment = theirs.garments.get()

        assert auth_client.get(f"/api/v1/searches/{theirs.pk}").status_code == 404
        assert auth_client.get(f"/api/v1/looks/{look.pk}").status_code == 404
        assert auth_client.get(f"/api/v1/garments/{garment.pk}/recommendations").status_code == 404
        assert auth_client.get(f"/api/v1/garments/{garment.pk}/shops").status_code == 404
        assert auth_client.get("/api/v1/searches").json()["count"] == 0

    def test_anonymous_is_401(self, api_client, db):
        for url in (
            "/api/v1/searches",
            "/api/v1/feed",
            "/api/v1/me/style",
            "/api/v1/garments/1/recommendations",
        ):
            assert api_client.get(url).status_code == 401

    def test_feedback_on_an_unknown_product_is_404(self, auth_client, db):
        response = auth_client.post(
            "/api/v1/products/999999/feedback", {"kind": "owned"}, format="json"
        )
        assert response.status_code == 404


def test_answers_are_computed_while_the_cache_is_unreachable(auth_client, user, catalog):
    from django.core.cache import caches
    from django.test import override_settings

    target = catalog.product("top", 2)
    garment = analysed_search(user, catalog.photos[target.pk], category="top").garments.get()
    closed = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    with override_settings(CACHES=closed):
        caches["default"]
        response = auth_client.get(f"/api/v1/garments/{garment.pk}/recommendations")

    assert response.status_code == 200
    assert response.json()["results"][0]["id"] == target.pk
