"""The demo catalog: shops with distinct style moods and products drawn by ml.synthetic.

Every product comes from a seeded :class:`ml.synthetic.GarmentSpec` sampled from one of
its shop's styles, so the shops' moods differ the way real shops' do, and the pictures
look like the styles they are tagged with. Loading twice changes nothing: products are
written through the import's row writer, matched by (shop, external id), and an image
whose bytes are the same is kept (and not encoded again).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import numpy as np
from django.utils import timezone

from apps.catalog import selectors, services
from apps.catalog.imports import FetchedImage, ImportRow, RowOutcome, product_row_apply
from apps.catalog.models import ProcessingStatus, ProductImage
from backend.api.errors import ApplicationError
from backend.uploads import check_image_bytes
from ml.synthetic import GarmentSpec, derive_seed, render_product_shot, sample_spec
from ml.types import CATEGORIES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoShop:
    name: str
    kind: str
    site_url: str
    styles: tuple[str, ...]
    brands: tuple[str, ...]


# Together the shops cover the 23 styles; each leans on a few of them.
DEMO_SHOPS: tuple[DemoShop, ...] = (
    DemoShop(
        "Seoul Street Lab",
        "mall",
        "https://street-lab.example.com",
        ("street", "hiphop", "sporty", "punk"),
        ("BLKLAB", "Hongdae Crew", "Run Seoul"),
    ),
    DemoShop(
        "Maison Classique",
        "mall",
        "https://maison-classique.example.com",
        ("classic", "sophisticated", "manish", "modern"),
        ("Atelier Noa", "Cheongdam", "Maison C"),
    ),
    DemoShop(
        "Romance Closet",
        "mall",
        "https://romance-closet.example.com",
        ("romantic", "feminine", "sexy", "resort"),
        ("Lily & Co", "Blossom", "Seaside"),
    ),
    DemoShop(
        "Vintage Road",
        "mall",
        "https://vintage-road.example.com",
        ("retro", "hippie", "country", "western"),
        ("Route 66", "Old Seoul", "Prairie"),
    ),
    DemoShop(
        "Nine Home Shopping",
        "tv",
        "https://ninehs.example.com",
        ("classic", "modern", "feminine", "sophisticated", "preppy"),
        ("Nine Select", "Lune", "Haute Nine"),
    ),
    DemoShop(
        "Avant Channel",
        "tv",
        "https://avant-channel.example.com",
        ("avantgarde", "kitsch", "oriental", "genderless", "military", "tomboy"),
        ("Void", "Hanok Atelier", "Unit 23"),
    ),
)

_SHAPE_NAMES = {
    "tshirt": "T-shirt", "longsleeve": "long-sleeve tee", "tank": "tank top", "shirt": "shirt",
    "crop": "crop top", "trousers": "trousers", "wide_trousers": "wide trousers",
    "shorts": "shorts", "skirt": "skirt", "mini_skirt": "mini skirt", "jacket": "jacket",
    "coat": "coat", "blazer": "blazer", "sheath": "sheath dress", "aline": "A-line dress",
    "maxi": "maxi dress", "slip": "slip dress",
}  # fmt: skip

_BASE_PRICE = {"top": 29000, "bottom": 45000, "outer": 129000, "dress": 79000}


@dataclass(frozen=True)
class DemoProduct:
    shop: DemoShop
    external_id: str
    spec: GarmentSpec
    price: Decimal
    brand: str
    on_air: tuple[int, int] | None  # hours after today's local midnight: start, end


def demo_products(count: int, *, seed: int = 7) -> Iterator[DemoProduct]:
    """``count`` products spread over the shops, categories taken in turn."""
    for i in range(count):
        shop = DEMO_SHOPS[i % len(DEMO_SHOPS)]
        rng = np.random.default_rng([seed, i, 11])
        style = shop.styles[int(rng.integers(len(shop.styles)))]
        category = CATEGORIES[(i // len(DEMO_SHOPS)) % len(CATEGORIES)]
        spec = sample_spec(derive_seed(seed, i), category=category, style=style)
        price = _BASE_PRICE[category] * float(rng.uniform(0.6, 2.2))
        on_air = None
        if shop.kind == "tv":
            # Some on air all day (so "on air now" always finds a few), the others for an
            # hour today. Anchored to the day, so loading again the same day changes nothing.
            slot = int(rng.integers(0, 24))
            on_air = (0, 24) if slot % 4 == 0 else (slot, slot + 1)
        yield DemoProduct(
            shop=shop,
            external_id=f"demo-{i:04d}",
            spec=spec,
            price=Decimal(int(round(price, -2))),
            brand=shop.brands[int(rng.integers(len(shop.brands)))],
            on_air=on_air,
        )


def _jpeg(spec: GarmentSpec) -> bytes:
    buffer = io.BytesIO()
    render_product_shot(spec, size=320).image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def demo_product_write(*, item: DemoProduct) -> RowOutcome:
    data = _jpeg(item.spec)
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    start = end = None
    if item.on_air:
        start = midnight + timedelta(hours=item.on_air[0])
        end = midnight + timedelta(hours=item.on_air[1])
    spec = item.spec
    row = ImportRow(
        line=0,
        shop=item.shop.name,
        shop_kind=item.shop.kind,
        shop_url=item.shop.site_url,
        external_id=item.external_id,
        data=services.ProductData(
            name=f"{spec.styles[0].title()} {spec.pattern} {_SHAPE_NAMES[spec.shape]}",
            price=item.price,
            category=spec.category,
            brand=item.brand,
            style_tags=spec.styles,
            purchase_url=f"{item.shop.site_url}/p/{item.external_id}",
            on_air_start=start,
            on_air_end=end,
        ),
        images=(f"synthetic:{spec.seed}",),
    )
    fetched = FetchedImage(
        ref=f"synthetic:{spec.seed}",
        data=data,
        checked=check_image_bytes(data),
        digest=services.content_hash(data),
    )
    return product_row_apply(row=row, images=[fetched])


@dataclass
class DemoSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    encoded: int = 0
    #: images encoded again because an earlier encoder (version) had encoded them
    reencoded: int = 0
    failed: int = 0
    indexes: tuple[str, ...] = ()
    note: str = ""


def demo_load(
    *,
    count: int = 480,
    seed: int = 7,
    encode: bool = True,
    on_progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Load the demo catalog; with ``encode``, encode its images here and build the indexes.

    Without a working image pipeline (``CATALOG_IMAGE_ANALYSER``) the images stay queued for
    the worker and ``summary.note`` says why nothing was encoded.
    """
    services.style_rows_ensure()
    summary = DemoSummary()
    analyser: services.ImageAnalyser | None = None
    if encode:
        try:
            analyser = services.image_analyser()
        except services.PipelineUnavailable as exc:
            summary.note = (
                f"Images not encoded here: {exc.message} They stay queued for the worker."
            )
    shop_ids = set()
    # Images encoded below are not queued for the worker too (a backlog ahead of users).
    with services.images_processed_here() if analyser else contextlib.nullcontext():
        for item in demo_products(count, seed=seed):
            outcome = demo_product_write(item=item)
            setattr(summary, outcome.product, getattr(summary, outcome.product) + 1)
            shop_ids.add(outcome.shop_id)
            if on_progress:
                on_progress("write")
    services.shops_mood_recompute(shop_ids=shop_ids)
    if analyser is None:
        return summary
    demo_images = ProductImage.objects.filter(
        product__external_id__startswith="demo-",
        product__shop__name__in=[s.name for s in DEMO_SHOPS],
    )
    running = services.analyser_encoder_id()
    if running:  # encoded by an earlier encoder (an upgrade): encode again, or nothing matches
        stale = selectors.product_images_of_another_encoder(encoder_id=running, images=demo_images)
        summary.reencoded = services.product_images_reencode(
            image_ids=list(stale.values_list("pk", flat=True)), enqueue=False
        )
    pending = demo_images.exclude(status=ProcessingStatus.READY)
    for image_id in pending.values_list("pk", flat=True):
        status = services.product_image_process(image_id=image_id, analyser=analyser)
        summary.encoded += status == ProcessingStatus.READY
        summary.failed += status == ProcessingStatus.FAILED
        if on_progress:
            on_progress("encode")
    built = []
    for category in CATEGORIES:
        try:
            services.index_rebuild(category=category)
            built.append(category)
        except ApplicationError as exc:
            summary.note = (summary.note + " " + f"{category}: {exc.message}").strip()
    summary.indexes = tuple(built)
    return summary
