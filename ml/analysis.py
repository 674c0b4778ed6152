"""From a decoded photo to garment crops with embeddings: detect, crop, encode.

This is the one step every image goes through (closet photos, product images, search
photos). Style vectors are computed afterwards by the caller, because the default style
model votes with the curated catalog, which lives outside ``ml``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from ml.base import Detector, Encoder
from ml.types import Box, Detection, Embedding, StyleVector

#: context kept around a garment box, as a share of its size
CROP_PADDING = 0.04
CROP_JPEG_QUALITY = 90
#: boxes smaller than this share of the image are noise, not garments
MIN_BOX_AREA_SHARE = 0.005


@dataclass(frozen=True)
class GarmentCrop:
    """A garment found in a photo: where, what, its crop (JPEG bytes) and its embedding."""

    detection: Detection
    crop_jpeg: bytes
    crop_size: tuple[int, int]
    embedding: Embedding
    #: None here: style vectors are made afterwards (the default votes with the catalog)
    style: StyleVector | None = None


def crop_box(image: Image.Image, box: Box, padding: float = CROP_PADDING) -> Image.Image:
    """The part of ``image`` inside ``box``, with a little padding, clipped to the image."""
    pad_x, pad_y = box.width * padding, box.height * padding
    padded = Box(box.x1 - pad_x, box.y1 - pad_y, box.x2 + pad_x, box.y2 + pad_y)
    x1, y1, x2, y2 = padded.clip(image.width, image.height).as_int_tuple()
    if x2 - x1 < 2 or y2 - y1 < 2:
        raise ValueError(f"box {box.as_list()} holds no pixels of a {image.size} image")
    return image.crop((x1, y1, x2, y2))


def jpeg_bytes(image: Image.Image, quality: int = CROP_JPEG_QUALITY) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


@dataclass(frozen=True)
class PhotoAnalysis:
    """The people found in a photo and its garments, largest first."""

    people: list[Detection]
    garments: list[GarmentCrop]


def analyse_photo(
    image: Image.Image,
    *,
    detector: Detector,
    encoder: Encoder,
    box: Box | None = None,
    category: str | None = None,
    max_garments: int = 8,
) -> PhotoAnalysis:
    """People and garments in ``image`` (RGB); each garment cropped, all encoded in one batch.

    ``box``: the region the user tapped (detection is skipped for it); ``category``: the
    category the client gave, applied to every garment returned.
    """
    if box is not None:
        box = box.clip(image.width, image.height)
        if box.area < 4:
            raise ValueError("the box lies outside the photo")
    found = detector.detect(image, box=box, category=category)
    people = [d for d in found if d.kind == "person"]
    detections = [
        d
        for d in found
        if d.kind == "garment" and d.box.area >= MIN_BOX_AREA_SHARE * image.width * image.height
    ]
    detections.sort(key=lambda d: d.box.area, reverse=True)
    detections = detections[:max_garments]
    if category is not None:
        detections = [
            Detection(d.box, d.label, category, d.score, d.kind, d.person_index)  # type: ignore[arg-type]
            for d in detections
        ]
    crops = [crop_box(image, d.box) for d in detections]
    embeddings = encoder.encode(crops)
    garments = [
        GarmentCrop(detection=d, crop_jpeg=jpeg_bytes(c), crop_size=c.size, embedding=e)
        for d, c, e in zip(detections, crops, embeddings, strict=True)
    ]
    return PhotoAnalysis(people=people, garments=garments)
