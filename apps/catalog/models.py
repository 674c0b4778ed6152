"""The catalog: shops, their products, the products' images and the garment crops in them.

Rows change only through :mod:`apps.catalog.services` (no logic in ``save()`` or signals):
the services keep the derived parts (a shop's style mood, an image's processing status)
in step with what changed.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Any

import numpy as np
from django.db import models
from django.db.models import Q
from django.utils import timezone

from backend.processing import Processable, ProcessingStatus
from config.taxonomy import categories, styles


class Category(models.TextChoices):
    TOP = "top", "Top"
    BOTTOM = "bottom", "Bottom"
    OUTER = "outer", "Outer"
    DRESS = "dress", "Dress"


# The taxonomy file is the source of truth; the choices above must not drift from it.
assert [c.value for c in Category] == list(categories()), "Category drifted from the taxonomy"


class Style(models.Model):
    """One of the 23 K-Fashion styles (rows seeded from ``config/taxonomy/styles.json``).

    A table rather than a JSON list on the product so that "products in style X" is a plain
    join on every database (SQLite has no JSON ``contains``), and the admin can filter on it.
    """

    slug = models.SlugField(max_length=30, primary_key=True)
    position = models.PositiveSmallIntegerField(unique=True, help_text="Order in the taxonomy.")

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.slug


class Shop(models.Model):
    class Kind(models.TextChoices):
        MALL = "mall", "Online mall"
        TV = "tv", "TV home-shopping channel"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MALL)
    site_url = models.URLField(blank=True)
    logo = models.ImageField(upload_to="catalog/shops/", blank=True)
    # {style: share of the shop's active products tagged with it}, every one of the 23 styles,
    # recomputed by services.shop_mood_recompute whenever products or their tags change.
    style_mood = models.JSONField(default=dict, blank=True, editable=False)
    mood_product_count = models.PositiveIntegerField(default=0, editable=False)
    mood_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def mood_vector(self) -> list[float]:
        """The mood as 23 floats in taxonomy order (0 for a style no product has)."""
        return [float(self.style_mood.get(style, 0.0)) for style in styles()]


class ProductQuerySet(models.QuerySet["Product"]):
    def on_air(self, at: Any = None) -> ProductQuerySet:
        """Products whose broadcast window holds ``at`` (now by default)."""
        moment = at or timezone.now()
        return self.filter(on_air_start__lte=moment, on_air_end__gt=moment)


class Product(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    external_id = models.CharField(
        max_length=100, help_text="The shop's own id for the product (unique per shop)."
    )
    name = models.CharField(max_length=200)
    brand = models.CharField(max_length=100, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="KRW")
    category = models.CharField(max_length=10, choices=Category.choices)
    style_tags = models.ManyToManyField(Style, blank=True, related_name="products")
    purchase_url = models.URLField(max_length=500, blank=True)
    on_air_start = models.DateTimeField(null=True, blank=True)
    on_air_end = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_id"], name="catalog_product_unique_external_id"
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0), name="catalog_product_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(on_air_start__isnull=True)
                | Q(on_air_end__isnull=True)
                | Q(on_air_end__gt=models.F("on_air_start")),
                name="catalog_product_on_air_window_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["category", "is_active"]),
            models.Index(fields=["on_air_start", "on_air_end"]),
            models.Index(fields=["price"]),
            # The product list's order (newest first): a page is read off the index
            # instead of sorting the whole catalog.
            models.Index(
                fields=["-created_at", "-id"],
                name="catalog_product_newest",
                condition=Q(is_active=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.shop.name} #{self.external_id})"

    @property
    def is_on_air(self) -> bool:
        if not (self.on_air_start and self.on_air_end):
            return False
        return self.on_air_start <= timezone.now() < self.on_air_end


# Product images move through the same processing states as every photo (backend.processing).
__all__ = ["ProcessingStatus"]


def product_image_path(instance: ProductImage, filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower() or ".jpg"
    stem = instance.content_hash[:20] if instance.content_hash else uuid.uuid4().hex
    return f"catalog/products/{instance.product_id}/{stem}{suffix}"


class ProductImage(Processable):
    class Role(models.TextChoices):
        MAIN = "main", "Main"
        EXTRA = "extra", "Extra"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    file = models.ImageField(upload_to=product_image_path, max_length=255)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MAIN)
    position = models.PositiveSmallIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # sha256 of the stored bytes: an import that brings the same bytes again keeps this row.
    content_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    source_url = models.CharField(max_length=500, blank=True, help_text="Where the import got it.")

    # status, failure_reason, attempts, requeues, processing_started_at, status_changed_at:
    # from Processable (the sweeper re-queues a stuck image once, then fails it).
    processed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The content hash the current crops were made from: equal to content_hash when ready.
    processed_hash = models.CharField(max_length=64, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product_id", "position", "id"]
        indexes = [models.Index(fields=["status", "status_changed_at"])]

    def __str__(self) -> str:
        return f"{self.role} image {self.pk} of product {self.product_id}"


def product_crop_path(instance: ProductCrop, filename: str) -> str:
    return f"catalog/crops/{instance.image_id}/{instance.index}-{uuid.uuid4().hex[:12]}.jpg"


class ProductCrop(models.Model):
    """A garment found in a product image: its box, crop, embedding and style vector."""

    class CategorySource(models.TextChoices):
        PRODUCT = "product", "The product's category"
        DETECTOR = "detector", "The detector"
        CURATOR = "curator", "A curator"

    image = models.ForeignKey(ProductImage, on_delete=models.CASCADE, related_name="crops")
    index = models.PositiveSmallIntegerField(default=0, help_text="Order within the image.")
    box = models.JSONField(help_text="[x1, y1, x2, y2] in the image's pixels.")
    category = models.CharField(max_length=10, choices=Category.choices)
    category_source = models.CharField(
        max_length=10, choices=CategorySource.choices, default=CategorySource.PRODUCT
    )
    score = models.FloatField(null=True, blank=True, help_text="Detector confidence.")
    file = models.ImageField(upload_to=product_crop_path, max_length=255, blank=True)
    # float32 little-endian, L2-normalised (ml.types.Embedding.values).
    embedding = models.BinaryField(editable=False)
    embedding_dim = models.PositiveIntegerField(editable=False)
    encoder = models.CharField(max_length=60, editable=False)
    encoder_version = models.CharField(max_length=40, editable=False)
    # 23 floats in taxonomy order (ml.types.StyleVector.scores), or empty when none was made.
    style_vector = models.JSONField(default=list, blank=True, editable=False)
    style_source = models.CharField(max_length=60, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["image_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["image", "index"], name="catalog_crop_unique_index"),
        ]
        indexes = [models.Index(fields=["category", "encoder", "encoder_version"])]

    def __str__(self) -> str:
        return f"{self.category} crop {self.index} of image {self.image_id}"

    @property
    def encoder_id(self) -> str:
        return f"{self.encoder}@{self.encoder_version}"

    def embedding_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.embedding), dtype="<f4").astype(np.float32)


class IndexVersion(models.Model):
    """A built Annoy index for one category; at most one is live per category.

    Mirrors what ``ml.index`` published (its ``CURRENT`` pointer per category), so the
    admin can show which version serves, how many items it holds and how long it took.
    """

    category = models.CharField(max_length=10, choices=Category.choices)
    encoder = models.CharField(max_length=100, help_text="name@version of the encoder.")
    version = models.CharField(max_length=40)
    path = models.CharField(
        max_length=500, help_text="The version's folder (INDEX_DIR/<category>/versions/<version>)."
    )
    item_count = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField(default=timezone.now)
    build_seconds = models.FloatField(default=0.0)
    is_live = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-built_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["category"],
                condition=Q(is_live=True),
                name="catalog_indexversion_one_live_per_category",
            ),
            models.UniqueConstraint(
                fields=["category", "version"], name="catalog_indexversion_unique"
            ),
        ]

    def __str__(self) -> str:
        live = " (live)" if self.is_live else ""
        return f"{self.category} index {self.version} [{self.encoder}]{live}"
