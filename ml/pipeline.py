"""Entry points the Django side calls with raw bytes (the catalog's product images)."""

from __future__ import annotations

from ml.analysis import GarmentCrop, analyse_photo
from ml.image import decode_image
from ml.registry import get_registry


def analyse_product_image(data: bytes, *, category: str | None) -> list[GarmentCrop]:
    """The garments in a product shot, largest first, each with its embedding.

    ``category`` is the product's category, passed to the detector as the client's hint.
    Each result has ``detection``, ``embedding`` and ``style`` (``None``: the catalog's
    curated tags make product style vectors).
    """
    decoded = decode_image(data)
    registry = get_registry()
    return analyse_photo(
        decoded.image,
        detector=registry.detector(),
        encoder=registry.encoder(),
        category=category,
    ).garments
