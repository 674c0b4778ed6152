"""The catalog API: open to read, closed to write, filtered and paginated."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.catalog import services
from tests.apps.catalog.conftest import ProductFactory, ShopFactory, image_bytes

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def test_products_are_readable_without_login(api_client):
    product = ProductFactory(name="Wool coat", category="outer", style_tags=["classic"])

    response = api_client.get("/api/v1/products")

    assert response.status_code == 200
    item = response.json()["results"][0]
    assert item["id"] == product.pk
    assert item["name"] == "Wool coat"
    assert item["price"] == 39000
    assert item["currency"] == "KRW"
    assert item["style_tags"] == ["classic"]
    assert item["shop"] == {"id": product.shop.pk, "name": product.shop.name, "kind": "mall"}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_nobody_can_write_through_the_api(auth_client, api_client, method):
    product = ProductFactory()
    for client in (auth_client, api_client):
        for url in ("/api/v1/products", f"/api/v1/products/{product.pk}", "/api/v1/shops"):
            response = getattr(client, method)(url, {"name": "hacked"}, format="json")
            assert response.status_code == 405, (url, response.status_code)
            assert response.json()["error"]["code"] == "method_not_allowed"
    product.refresh_from_db()
    assert product.name != "hacked"


def test_inactive_products_are_neither_listed_nor_found(api_client):
    hidden = ProductFactory(is_active=False)
    shown = ProductFactory()

    assert ids(api_client.get("/api/v1/products")) == [shown.pk]
    response = api_client.get(f"/api/v1/products/{hidden.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_products_filter_by_category_shop_price_and_style(api_client):
    mall, channel = ShopFactory(name="Mall"), ShopFactory(name="Channel", kind="tv")
    coat = ProductFactory(
        shop=mall, category="outer", price=Decimal("120000"), style_tags=["classic"]
    )
    tee = ProductFactory(shop=mall, category="top", price=Decimal("15000"), style_tags=["street"])
    dress = ProductFactory(
        shop=channel, category="dress", price=Decimal("59000"), style_tags=["romantic", "feminine"]
    )

    assert ids(api_client.get("/api/v1/products", {"category": "outer"})) == [coat.pk]
    assert ids(api_client.get("/api/v1/products", {"shop": channel.pk})) == [dress.pk]
    assert set(ids(api_client.get("/api/v1/products", {"price_min": 20000}))) == {coat.pk, dress.pk}
    assert ids(api_client.get("/api/v1/products", {"price_min": 20000, "price_max": 100000})) == [
        dress.pk
    ]
    assert set(ids(api_client.get("/api/v1/products", {"style": "street,feminine"}))) == {
        tee.pk,
        dress.pk,
    }
    assert ids(api_client.get("/api/v1/products", {"q": "Acme", "category": "top"})) == [tee.pk]


def test_products_on_air_now(api_client):
    now = timezone.now()
    live = ProductFactory(
        on_air_start=now - timedelta(minutes=10), on_air_end=now + timedelta(minutes=50)
    )
    ProductFactory(on_air_start=now - timedelta(hours=3), on_air_end=now - timedelta(hours=2))
    ProductFactory()

    assert ids(api_client.get("/api/v1/products", {"on_air": "true"})) == [live.pk]
    assert live.pk not in ids(api_client.get("/api/v1/products", {"on_air": "false"}))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "hat"}, "category"),
        ({"style": "street,glam"}, "style"),
        ({"price_min": "cheap"}, "price_min"),
        ({"price_min": 5000, "price_max": 100}, "price_min"),
        ({"shop": "x"}, "shop"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(api_client, params, field):
    response = api_client.get("/api/v1/products", params)

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_products_paginate(api_client):
    made = [ProductFactory() for _ in range(5)]

    first = api_client.get("/api/v1/products", {"page_size": 2}).json()
    third = api_client.get("/api/v1/products", {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert len(first["results"]) == 2 and first["next"] and first["previous"] is None
    assert len(third["results"]) == 1 and third["next"] is None
    seen = [p["id"] for p in first["results"]] + [p["id"] for p in third["results"]]
    assert seen == [made[4].pk, made[3].pk, made[0].pk]  # newest first


def test_product_detail_has_image_urls_the_app_can_load(api_client, analyser):
    product = ProductFactory()
    image = services.product_image_add(product=product, data=image_bytes())
    services.product_image_process(image_id=image.pk)

    body = api_client.get(f"/api/v1/products/{product.pk}").json()

    assert body["image_url"].startswith("http://testserver/media/catalog/products/")
    [shown] = body["images"]
    assert shown["role"] == "main" and shown["status"] == "ready"
    assert shown["width"] == 64 and shown["crops"][0]["box"] == [0.0, 0.0, 64.0, 48.0]
    assert api_client.get(shown["url"]).status_code == 200


def test_shops_list_and_detail_with_mood(api_client):
    shop = ShopFactory(name="Street Mall")
    ProductFactory(shop=shop, style_tags=["street", "hiphop"])
    ProductFactory(shop=shop, style_tags=["street"])
    ProductFactory(shop=shop, is_active=False, style_tags=["punk"])
    services.shop_mood_recompute(shop=shop)

    listed = api_client.get("/api/v1/shops").json()["results"]
    detail = api_client.get(f"/api/v1/shops/{shop.pk}").json()

    assert listed[0]["name"] == "Street Mall" and listed[0]["product_count"] == 2
    assert listed[0]["top_styles"] == ["street", "hiphop"]
    assert len(detail["style_mood"]) == 23
    assert detail["style_mood"]["street"] == 1.0
    assert detail["style_mood"]["hiphop"] == 0.5
    assert detail["style_mood"]["punk"] == 0.0
    assert api_client.get("/api/v1/shops/999999").status_code == 404


def test_the_schema_documents_the_product_filters(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    params = {p["name"] for p in response.json()["paths"]["/api/v1/products"]["get"]["parameters"]}
    assert {"category", "shop", "price_min", "price_max", "style", "on_air", "page"} <= params


def test_a_page_of_products_costs_the_same_queries_however_many_images(
    api_client, django_assert_max_num_queries
):
    for i in range(12):
        product = ProductFactory(style_tags=["street", "modern"])
        services.product_image_add(product=product, data=image_bytes((i * 20, 40, 90)))
        services.product_image_add(
            product=product, data=image_bytes((i * 20, 90, 40)), role="extra", position=1
        )

    with django_assert_max_num_queries(5):  # count, page, tags, images (+ a savepoint spare)
        response = api_client.get("/api/v1/products", {"page_size": 12})

    assert len(response.json()["results"]) == 12
    assert all(item["image_url"] for item in response.json()["results"])
