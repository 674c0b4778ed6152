"""Entry points the Django side calls with raw bytes (the catalog's product images)."""

from __future__ import annotations

from dataclasses import replace

from ml.analysis import GarmentCrop, analyse_photo
from ml.image import decode_image
from ml.registry import get_registry


def analyse_product_image(data: bytes, *, category: str | None) -> list[GarmentCrop]:
    """The garments in a product shot, largest first, each with its embedding.

    ``category`` is the product's category, passed to the detector as the client's hint.
    Each result has ``detection``, ``embedding`` and ``style``: the trained style head's
    vector when one is configured (``ML_STYLE_HEAD``), else ``None`` (the catalog's curated
    tags then make product style vectors).
    """
    decoded = decode_image(data)
    registry = get_registry()
    garments = analyse_photo(
        decoded.image,
        detector=registry.detector(),
        encoder=registry.encoder(),
        category=category,
    ).garments
    head = registry.style_head()
    if head is None or not garments:
        return garments
    styles = head.predict([g.embedding for g in garments])
    return [replace(g, style=s) for g, s in zip(garments, styles, strict=True)]
