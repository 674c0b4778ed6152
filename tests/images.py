"""Tiny images made in the tests."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def garment_photo(
    colour: tuple[int, int, int] = (200, 30, 40),
    size: tuple[int, int] = (240, 320),
    background: tuple[int, int, int] = (235, 235, 230),
    fmt: str = "JPEG",
    stripes: bool = False,
) -> bytes:
    """A photo of a simple T-shirt shape on a plain background."""
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    w, h = size
    body = [(w * 0.3, h * 0.25), (w * 0.7, h * 0.25), (w * 0.7, h * 0.85), (w * 0.3, h * 0.85)]
    draw.polygon(body, fill=colour)
    draw.polygon(
        [(w * 0.3, h * 0.25), (w * 0.12, h * 0.4), (w * 0.2, h * 0.47), (w * 0.3, h * 0.38)],
        fill=colour,
    )
    draw.polygon(
        [(w * 0.7, h * 0.25), (w * 0.88, h * 0.4), (w * 0.8, h * 0.47), (w * 0.7, h * 0.38)],
        fill=colour,
    )
    if stripes:
        for y in range(int(h * 0.27), int(h * 0.85), 12):
            draw.rectangle([w * 0.3, y, w * 0.7, y + 4], fill=(250, 250, 250))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()
