"""The glue between stored photos and the ml library, shared by every pipeline."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ml.analysis import PhotoAnalysis, analyse_photo
from ml.image import ImageError, ImageLimits, decode_image
from ml.registry import get_registry
from ml.types import Box


class PhotoUnusable(Exception):
    """The stored photo (or the box on it) can never be processed; the message says why."""


def upload_limits() -> ImageLimits:
    return ImageLimits(max_bytes=settings.UPLOAD_MAX_BYTES, max_pixels=settings.UPLOAD_MAX_PIXELS)


def photo_analyse(
    *,
    file: Any,
    box: list[float] | None = None,
    category: str | None = None,
    max_garments: int = 8,
) -> PhotoAnalysis:
    """Read ``file`` (a stored FieldFile), decode it and find its people and garments."""
    with file.open("rb") as handle:
        data = handle.read()
    try:
        decoded = decode_image(data, upload_limits())
    except ImageError as exc:
        raise PhotoUnusable(f"The photo cannot be read: {exc}") from exc
    registry = get_registry()
    client_box = Box.from_list(box) if box else None
    if client_box is not None:
        width, height = decoded.size
        clipped = client_box.clip(width, height)
        if min(clipped.width, clipped.height) < 2:
            raise PhotoUnusable(f"The box {box} lies outside the {width}x{height} photo.")
    return analyse_photo(
        decoded.image,
        detector=registry.detector(),
        encoder=registry.encoder(),
        box=client_box,
        category=category or None,
        max_garments=max_garments,
    )
