"""The image checks every upload and import passes (backend.uploads.check_image_bytes)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from backend.uploads import ImageRejected, check_image_bytes


def encode(size=(40, 30), fmt="JPEG", exif_orientation: int | None = None) -> bytes:
    picture = Image.new("RGB", size, (120, 60, 30))
    buffer = io.BytesIO()
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        picture.save(buffer, format=fmt, exif=exif)
    else:
        picture.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_accepted_formats_are_recognised_by_content(fmt, mime):
    checked = check_image_bytes(encode(fmt=fmt), max_bytes=10**6, max_pixels=10**6)
    assert (checked.format, checked.mime, checked.width, checked.height) == (
        fmt.lower(),
        mime,
        40,
        30,
    )


def test_exif_orientation_is_applied_to_the_reported_size():
    checked = check_image_bytes(encode(exif_orientation=6), max_bytes=10**6, max_pixels=10**6)
    assert (checked.width, checked.height) == (30, 40)


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (b"", "image_empty", "empty"),
        (b"hello, not an image", "not_an_image", "not an image"),
        (encode(fmt="GIF"), "image_type_unsupported", "GIF images are not supported"),
        (encode()[:200], "image_truncated", "cut short"),
    ],
)
def test_bad_files_are_refused_with_a_code_and_a_reason(data, code, message):
    with pytest.raises(ImageRejected, match=message) as caught:
        check_image_bytes(data, max_bytes=10**6, max_pixels=10**6)
    assert caught.value.status_code == 400
    assert caught.value.code == code


def test_too_many_bytes_is_refused():
    with pytest.raises(ImageRejected) as caught:
        check_image_bytes(encode(), max_bytes=100, max_pixels=10**6)
    assert caught.value.code == "image_too_large"


def test_too_many_pixels_is_refused_before_decoding():
    with pytest.raises(ImageRejected) as caught:
        check_image_bytes(encode(), max_bytes=10**6, max_pixels=1000)
    assert caught.value.code == "image_too_many_pixels"
