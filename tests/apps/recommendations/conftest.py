"""A small synthetic catalog and closet, processed by the real default pipeline in-process
(full-image detector, descriptor encoder, k-NN style vote) with real Annoy indexes."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.catalog import services as catalog_services
from apps.catalog.models import Product, Shop
from apps.closet.models import ClosetItem
from apps.closet.services import closet_item_create, closet_item_process
from apps.recommendations.models import Search
from apps.recommendations.retrieval import index_store
from apps.recommendations.services import search_create, search_process
from ml.registry import reset_registry
from ml.synthetic import render_product_shot, sample_spec

# Three shops, each leaning to one style: per category two products of its own style and a
# third of a neighbour's (tops and bottoms the next shop's, outers and dresses the previous').
SHOP_STYLES = {"Street Lab": "street", "Maison Classic": "classic", "Romance Room": "romantic"}
NAMES = list(SHOP_STYLES)


def jpeg(image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


@dataclass
class Catalog:
    products: dict[str, list[Product]]  # by category
    photos: dict[int, bytes]  # product id → its image bytes

    def product(self, category: str, i: int = 0) -> Product:
        return self.products[category][i]


@pytest.fixture
def catalog(db, tmp_path, settings) -> Catalog:
    settings.INDEX_DIR = tmp_path / "index"
    yield build_catalog()
    index_store.cache_clear()


def build_catalog(categories: tuple[str, ...] = ("top", "bottom", "outer", "dress")) -> Catalog:
    """Three shops x ``categories`` x three products, analysed and indexed."""
    index_store.cache_clear()
    reset_registry()
    catalog_services.style_rows_ensure()
    products: dict[str, list[Product]] = {c: [] for c in categories}
    photos: dict[int, bytes] = {}
    seed = 0
    for shop_index, (shop_name, own) in enumerate(SHOP_STYLES.items()):
        shop = Shop.objects.create(name=shop_name)
        for category in products:
            step = 1 if category in ("top", "bottom") else -1
            neighbour = SHOP_STYLES[NAMES[(shop_index + step) % len(NAMES)]]
            for style in (own, own, neighbour):
                seed += 1
                spec = sample_spec(seed, category=category, style=style)
                data = jpeg(render_product_shot(spec).image)
                product, _ = catalog_services.product_upsert(
                    shop=shop,
                    external_id=f"{category}-{seed}",
                    data=catalog_services.ProductData(
                        name=f"{style} {spec.shape}",
                        brand="Synth",
                        price=Decimal(10000 + 1000 * seed),
                        category=category,
                        style_tags=(style,),
                        purchase_url=f"https://shop.example.com/p/{seed}",
                    ),
                )
                image = catalog_services.product_image_add(product=product, data=data)
                catalog_services.product_image_process(image_id=image.pk)
                products[category].append(product)
                photos[product.pk] = data
    for category in products:
        catalog_services.index_rebuild(category=category)
    return Catalog(products=products, photos=photos)


def add_to_closet(user, data: bytes, category: str) -> ClosetItem:
    item = closet_item_create(user=user, photo=data, category=category)
    closet_item_process(item_id=item.pk)
    item.refresh_from_db()
    assert item.status == "ready", item.failure_reason
    return item


def analysed_search(
    user, data: bytes, category: str = "", kind: str = Search.Kind.SEARCH
) -> Search:
    search = search_create(user=user, photo=data, category=category, kind=kind)
    search_process(search_id=search.pk)
    search.refresh_from_db()
    assert search.status == "ready", search.failure_reason
    return search


@pytest.fixture
def on_commit_now(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (index deltas, file deletions) as soon as they are queued."""
    with django_capture_on_commit_callbacks(execute=True):
        yield


# The catalog's fixtures (its stand-in analyser, the seeded styles) for the style tests.
from tests.apps.catalog.conftest import _styles_present, analyser  # noqa: E402, F401
