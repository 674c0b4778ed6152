"""Reads on the catalog: what the app browses, what the admin and the index read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.catalog.models import (
    IndexVersion,
    ProcessingStatus,
    Product,
    ProductCrop,
    ProductImage,
    Shop,
)


def shop_list() -> QuerySet[Shop]:
    """Every shop, with the number of its active products."""
    return Shop.objects.annotate(
        product_count=Count("products", filter=Q(products__is_active=True))
    ).order_by("name")


def shop_get(*, shop_id: int) -> Shop | None:
    return shop_list().filter(pk=shop_id).first()


@dataclass(frozen=True)
class ProductFilters:
    """What the app may filter the product list by; None means "any"."""

    category: str | None = None
    shop_id: int | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    styles: tuple[str, ...] = ()
    on_air: bool | None = None
    query: str | None = None


def _with_images(queryset: QuerySet[Product], *, crops: bool = False) -> QuerySet[Product]:
    images = ProductImage.objects.order_by("position", "id")
    if crops:
        images = images.prefetch_related("crops")
    return queryset.select_related("shop").prefetch_related(
        "style_tags", Prefetch("images", queryset=images)
    )


def product_list(
    *, filters: ProductFilters | None = None, at: datetime | None = None
) -> QuerySet[Product]:
    """Active products matching ``filters``, newest first.

    ``styles``: products carrying any of them. ``on_air``: True → those whose broadcast
    window holds ``at`` (now by default); False → the others.
    """
    f = filters or ProductFilters()
    queryset = Product.objects.filter(is_active=True)
    if f.category:
        queryset = queryset.filter(category=f.category)
    if f.shop_id is not None:
        queryset = queryset.filter(shop_id=f.shop_id)
    if f.price_min is not None:
        queryset = queryset.filter(price__gte=f.price_min)
    if f.price_max is not None:
        queryset = queryset.filter(price__lte=f.price_max)
    if f.styles:
        queryset = queryset.filter(
            pk__in=Product.style_tags.through.objects.filter(style_id__in=f.styles).values(
                "product_id"
            )
        )
    if f.on_air is not None:
        moment = at or timezone.now()
        window = Q(on_air_start__lte=moment, on_air_end__gt=moment)
        queryset = queryset.filter(window) if f.on_air else queryset.exclude(window)
    if f.query:
        queryset = queryset.filter(
            Q(name__icontains=f.query) | Q(brand__icontains=f.query) | Q(external_id=f.query)
        )
    return _with_images(queryset.order_by("-created_at", "-id"))


def product_get(*, product_id: int) -> Product | None:
    """An active product with its shop, tags, images and crops; None when absent or inactive."""
    return _with_images(Product.objects.filter(is_active=True, pk=product_id), crops=True).first()


def index_items_per_category() -> dict[str, int]:
    """How many ready crops of active products each category's next index would hold."""
    from apps.catalog.models import ProductCrop

    rows = (
        ProductCrop.objects.filter(
            image__status=ProcessingStatus.READY, image__product__is_active=True
        )
        .values_list("category")
        .annotate(n=Count("id"))
    )
    return dict(rows)  # type: ignore[arg-type]


def index_version_live(*, category: str, encoder: str | None = None) -> IndexVersion | None:
    queryset = IndexVersion.objects.filter(category=category, is_live=True)
    if encoder:
        queryset = queryset.filter(encoder=encoder)
    return queryset.order_by("-built_at").first()


def product_images_of_another_encoder(
    *, encoder_id: str, images: QuerySet[ProductImage] | None = None
) -> QuerySet[ProductImage]:
    """Ready images (of ``images``, default all) with a crop that another encoder than
    ``encoder_id`` (``name@version``) embedded: after an encoder change, they must be
    encoded again."""
    name, _, version = encoder_id.partition("@")
    other = ProductCrop.objects.exclude(encoder=name, encoder_version=version)
    images = images if images is not None else ProductImage.objects.all()
    return images.filter(status=ProcessingStatus.READY, crops__in=other).distinct()
