"""Photos a user asked about (searches and wannabe looks), the garments found in them, and
what the user told us about products (feedback)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from apps.accounts.deletion import user_storage_prefix
from backend.processing import Processable


def search_photo_path(instance: Search, filename: str) -> str:
    prefix = user_storage_prefix(user_id=instance.user_id)
    return f"{prefix}searches/{uuid.uuid4().hex}/photo{filename[filename.rfind('.') :][:6]}"


def garment_crop_path(instance: Garment, filename: str) -> str:
    prefix = user_storage_prefix(user_id=instance.search.user_id)
    return f"{prefix}searches/{uuid.uuid4().hex}/crop.jpg"


class Search(Processable):
    """A photo the user wants to shop from (``search``) or a look they want (``look``)."""

    class Kind(models.TextChoices):
        SEARCH = "search", "Shop the look"
        LOOK = "look", "Wannabe look"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="searches"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SEARCH)
    photo = models.FileField(upload_to=search_photo_path, max_length=200)
    photo_width = models.PositiveIntegerField(null=True, blank=True)
    photo_height = models.PositiveIntegerField(null=True, blank=True)
    client_box = models.JSONField(null=True, blank=True)
    client_category = models.CharField(max_length=10, blank=True)
    #: people found in the photo: [{"box": [...], "score": ...}, ...]
    people = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "searches"


class Garment(models.Model):
    """A garment found in a search photo, with its vectors."""

    search = models.ForeignKey(Search, on_delete=models.CASCADE, related_name="garments")
    index = models.PositiveSmallIntegerField(default=0)
    box = models.JSONField()
    category = models.CharField(max_length=10, blank=True)
    label = models.CharField(max_length=60, blank=True)
    score = models.FloatField(default=0.0)
    person_index = models.PositiveSmallIntegerField(null=True, blank=True)
    crop = models.FileField(upload_to=garment_crop_path, max_length=200, blank=True)
    embedding = models.BinaryField(editable=False)
    encoder = models.CharField(max_length=80)
    style_vector = models.JSONField(default=list)
    style_source = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["search", "index"]
        constraints = [
            models.UniqueConstraint(fields=["search", "index"], name="garment_unique_index"),
        ]

    def __str__(self) -> str:
        return f"{self.category or 'garment'} {self.index} of search {self.search_id}"


class ProductFeedback(models.Model):
    """What the user told us about a product: they own it, or it does not interest them."""

    class Kind(models.TextChoices):
        OWNED = "owned", "I own this"
        NOT_INTERESTED = "not_interested", "Not interested"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="product_feedback"
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="feedback"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "product", "kind"], name="product_feedback_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.product_id}"
