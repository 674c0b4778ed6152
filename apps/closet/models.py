"""The digital closet: garments a user owns, and outfits (the codi book) made of them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from apps.accounts.deletion import user_storage_prefix
from backend.processing import Processable


def closet_photo_path(instance: ClosetItem, filename: str) -> str:
    prefix = user_storage_prefix(user_id=instance.user_id)
    return f"{prefix}closet/{uuid.uuid4().hex}/photo{_suffix(filename)}"


def closet_crop_path(instance: ClosetItem, filename: str) -> str:
    prefix = user_storage_prefix(user_id=instance.user_id)
    return f"{prefix}closet/{uuid.uuid4().hex}/crop.jpg"


def _suffix(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower()[:6] if dot != -1 else ""


class Category(models.TextChoices):
    TOP = "top", "Top"
    BOTTOM = "bottom", "Bottom"
    OUTER = "outer", "Outer"
    DRESS = "dress", "Dress"


class ClosetItem(Processable):
    """A garment the user owns: their photo, the garment's crop, its vectors."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="closet_items"
    )
    name = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True, max_length=2000)
    category = models.CharField(max_length=10, choices=Category.choices, blank=True)
    #: set when the user chose the category (the pipeline then keeps it)
    category_from_user = models.BooleanField(default=False)
    colour = models.CharField(max_length=30, blank=True)
    #: the photo as uploaded; boxes refer to the upright image (EXIF orientation applied),
    #: whose size is photo_width x photo_height
    photo = models.FileField(upload_to=closet_photo_path, max_length=200)
    photo_width = models.PositiveIntegerField(null=True, blank=True)
    photo_height = models.PositiveIntegerField(null=True, blank=True)
    #: the region the user boxed on the photo, [x1, y1, x2, y2] in photo pixels
    client_box = models.JSONField(null=True, blank=True)
    #: the garment's box the pipeline kept
    box = models.JSONField(null=True, blank=True)
    crop = models.FileField(upload_to=closet_crop_path, blank=True, max_length=200)
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    encoder = models.CharField(max_length=80, blank=True)
    style_vector = models.JSONField(null=True, blank=True)
    style_source = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "category", "status"], name="closet_item_user_cat_status"),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.category or 'garment'} #{self.pk}"


class ClosetSuggestion(models.Model):
    """Another garment found in an item's photo, which the user may turn into an item."""

    item = models.ForeignKey(ClosetItem, on_delete=models.CASCADE, related_name="suggestions")
    box = models.JSONField()
    category = models.CharField(max_length=10, choices=Category.choices, blank=True)
    score = models.FloatField(default=0.0)
    accepted_item = models.OneToOneField(
        ClosetItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.category or 'garment'} in item {self.item_id}"


class Outfit(models.Model):
    """A named set of closet items (the codi book)."""

    class Season(models.TextChoices):
        SPRING = "spring", "Spring"
        SUMMER = "summer", "Summer"
        AUTUMN = "autumn", "Autumn"
        WINTER = "winter", "Winter"
        ALL = "all", "All seasons"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outfits"
    )
    name = models.CharField(max_length=100)
    occasion = models.CharField(max_length=50, blank=True)
    season = models.CharField(max_length=10, choices=Season.choices, default=Season.ALL)
    items = models.ManyToManyField(ClosetItem, related_name="outfits", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
