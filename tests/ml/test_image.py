"""Image intake: every photo a phone sends decodes upright in RGB; everything else is
refused with a specific code and a message."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from ml.image import (
    ImageAspectRatioError,
    ImageEmptyError,
    ImageError,
    ImageLimits,
    ImageTooLargeError,
    ImageTooManyPixelsError,
    ImageTruncatedError,
    ImageTypeUnsupportedError,
    NotAnImageError,
    decode_image,
    sniff_format,
)


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def noisy(size: tuple[int, int] = (256, 192), seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def _i16(array: np.ndarray) -> Image.Image:
    return Image.frombytes("I;16", (array.shape[1], array.shape[0]), array.astype("<u2").tobytes())


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def png_bomb(side: int = 30_000) -> bytes:
    """A valid greyscale PNG of side x side black pixels, small on disk (zeros compress)."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + side)  # filter byte + one byte per pixel
    parts = [compressor.compress(row) for _ in range(side)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"".join(parts))
        + png_chunk(b"IEND", b"")
    )


def assert_refused(data: bytes, error: type[ImageError], code: str, **limits: object) -> ImageError:
    with pytest.raises(error) as caught:
        decode_image(data, ImageLimits(**limits))  # type: ignore[arg-type]
    assert caught.value.code == code
    assert caught.value.message and caught.value.message[0].isupper()
    return caught.value


def test_zero_bytes_are_refused_as_empty():
    assert_refused(b"", ImageEmptyError, "image_empty")


def test_truncated_jpeg_is_refused_as_truncated():
    data = encode(noisy(), "JPEG", quality=90)
    error = assert_refused(data[: len(data) // 2], ImageTruncatedError, "image_truncated")
    assert "whole file" in error.message


def test_truncated_png_is_refused_as_truncated():
    data = encode(noisy(), "PNG")
    assert_refused(data[: len(data) // 2], ImageTruncatedError, "image_truncated")


def test_text_renamed_jpg_is_not_an_image():
    text = b"Shopping list: a navy blazer, white sneakers, and a floral skirt.\n" * 3
    error = assert_refused(text, NotAnImageError, "not_an_image")
    assert "JPEG, PNG, WebP or HEIC" in error.message


def test_png_bomb_is_refused_from_its_header_without_decoding():
    data = png_bomb()
    assert len(data) < 1_000_000  # small on disk, 900 million pixels declared
    started = time.perf_counter()
    error = assert_refused(data, ImageTooManyPixelsError, "image_too_many_pixels")
    assert time.perf_counter() - started < 2.0  # 900 MB were never inflated
    assert "900.0 million" in error.message


def test_more_bytes_than_the_limit_are_refused():
    data = encode(noisy(), "PNG")
    error = assert_refused(data, ImageTooLargeError, "image_too_large", max_bytes=len(data) - 1)
    assert "limit" in error.message


def test_pixel_limit_is_configurable():
    data = encode(noisy((200, 100)), "PNG")
    assert_refused(data, ImageTooManyPixelsError, "image_too_many_pixels", max_pixels=19_999)
    assert decode_image(data, ImageLimits(max_pixels=20_000)).size == (200, 100)


def test_absurd_aspect_ratio_is_refused():
    data = encode(Image.new("RGB", (2000, 40), "white"), "PNG")
    error = assert_refused(data, ImageAspectRatioError, "image_aspect_ratio")
    assert "50 to 1" in error.message


def test_gif_is_an_image_of_an_unsupported_type():
    data = encode(Image.new("RGB", (32, 32), "red"), "GIF")
    error = assert_refused(data, ImageTypeUnsupportedError, "image_type_unsupported")
    assert error.message.startswith("GIF images are not supported")


def test_cmyk_jpeg_comes_out_rgb_with_its_colours():
    cmyk = Image.new("CMYK", (64, 48), (0, 255, 255, 0))  # no cyan, full magenta+yellow: red
    decoded = decode_image(encode(cmyk, "JPEG", quality=95))
    assert decoded.source_mode == "CMYK"
    assert decoded.image.mode == "RGB"
    r, g, b = decoded.image.getpixel((32, 24))
    assert r > 230 and g < 30 and b < 30


def test_16_bit_png_is_scaled_to_8_bits_not_clipped():
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (16, 1))
    data = encode(_i16(ramp), "PNG")
    decoded = decode_image(data)
    assert decoded.format == "png"
    assert decoded.source_mode.startswith("I")
    pixels = np.asarray(decoded.image)
    assert decoded.image.mode == "RGB"
    assert pixels[0, 0].tolist() == [0, 0, 0]
    assert pixels[0, 255].tolist() == [255, 255, 255]
    assert 120 <= pixels[0, 128, 0] <= 135  # the middle of the ramp stays grey


def test_transparent_png_is_composited_over_white():
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (10, 10, 30, 30))
    decoded = decode_image(encode(image, "PNG"))
    assert decoded.image.mode == "RGB"
    assert decoded.image.getpixel((2, 2)) == (255, 255, 255)
    assert decoded.image.getpixel((20, 20)) == (200, 0, 0)


@pytest.mark.parametrize("mode", ["P", "LA", "L", "1"])
def test_other_modes_come_out_rgb(mode: str):
    image = Image.new("RGB", (30, 20), (10, 120, 240)).convert(mode)
    decoded = decode_image(encode(image, "PNG"))
    assert decoded.image.mode == "RGB"
    assert decoded.image.size == (30, 20)


def test_palette_png_with_transparency_is_composited_over_white():
    image = Image.new("P", (20, 20), 0)
    image.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (5, 5, 15, 15))
    data = encode(image, "PNG", transparency=0)
    decoded = decode_image(data)
    assert decoded.image.getpixel((1, 1)) == (255, 255, 255)
    assert decoded.image.getpixel((10, 10)) == (0, 0, 255)


def test_exif_rotated_jpeg_comes_out_upright():
    # Stored landscape, left half red and right half blue, tagged "rotate 90° clockwise".
    stored = Image.new("RGB", (80, 40), (220, 0, 0))
    stored.paste((0, 0, 220), (40, 0, 80, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = decode_image(encode(stored, "JPEG", quality=95, exif=exif.tobytes()))
    assert decoded.stored_size == (80, 40)
    assert decoded.orientation == 6
    assert decoded.size == (40, 80)  # portrait, as the phone showed it
    top, bottom = decoded.image.getpixel((20, 10)), decoded.image.getpixel((20, 70))
    assert top[0] > 180 and top[2] < 60  # the red half is on top
    assert bottom[2] > 180 and bottom[0] < 60


def test_heic_from_an_iphone_decodes():
    import pillow_heif

    pillow_heif.register_heif_opener()
    image = Image.new("RGB", (64, 48), (30, 160, 90))
    decoded = decode_image(encode(image, "HEIF", quality=90))
    assert decoded.format == "heic"
    assert decoded.mime_type == "image/heic"
    assert decoded.size == (64, 48)
    r, g, b = decoded.image.getpixel((32, 24))
    assert abs(r - 30) < 12 and abs(g - 160) < 12 and abs(b - 90) < 12


def test_webp_decodes_and_type_comes_from_content_not_name():
    data = encode(noisy((50, 40)), "WEBP")
    assert sniff_format(data) == "webp"
    decoded = decode_image(data)
    assert (decoded.format, decoded.size, decoded.image.mode) == ("webp", (50, 40), "RGB")


def test_jpeg_decodes_to_a_plain_rgb_image():
    decoded = decode_image(encode(noisy((120, 90)), "JPEG"))
    assert decoded.format == "jpeg"
    assert decoded.mime_type == "image/jpeg"
    assert type(decoded.image) is Image.Image
    assert decoded.image.mode == "RGB"


def test_rotated_heic_comes_out_upright_and_is_not_turned_twice():
    import pillow_heif

    pillow_heif.register_heif_opener()
    stored = Image.new("RGB", (80, 40), (220, 0, 0))
    stored.paste((0, 0, 220), (40, 0, 80, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = decode_image(encode(stored, "HEIF", quality=95, exif=exif.tobytes()))
    assert decoded.size == (40, 80)
    top, bottom = decoded.image.getpixel((20, 10)), decoded.image.getpixel((20, 70))
    assert top[0] > 180 and top[2] < 60
    assert bottom[2] > 180 and bottom[0] < 60
