"""Image intake: bytes in, an upright RGB image out, or a specific refusal.

The type is recognised by content (magic bytes), never by the file name. Limits are
checked from the header before any pixel is decoded, so a decompression bomb (a small file
that declares a huge canvas) costs nothing. Every refusal is an :class:`ImageError` with a
stable ``code`` and a message a person can act on; the API turns them into 400s.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import threading
import warnings
import zlib
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

#: The formats accepted, by the name :func:`sniff_format` gives them.
SUPPORTED_FORMATS = ("jpeg", "png", "webp", "heic")
MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heic": "image/heic"}
_ACCEPTED = "JPEG, PNG, WebP or HEIC"

# HEIF brands of still images (iPhones write heic; mif1/msf1 are the generic ones).
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"heif"}
_AVIF_BRANDS = {b"avif", b"avis"}


class ImageError(ValueError):
    """An image the service will not take. ``code`` is stable; ``message`` is for people."""

    code: ClassVar[str] = "image_invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ImageEmptyError(ImageError):
    code = "image_empty"


class ImageTruncatedError(ImageError):
    code = "image_truncated"


class ImageCorruptError(ImageError):
    code = "image_corrupt"


class NotAnImageError(ImageError):
    code = "not_an_image"


class ImageTypeUnsupportedError(ImageError):
    code = "image_type_unsupported"


class ImageTooLargeError(ImageError):
    code = "image_too_large"


class ImageTooManyPixelsError(ImageError):
    code = "image_too_many_pixels"


class ImageTooSmallError(ImageError):
    code = "image_too_small"


class ImageAspectRatioError(ImageError):
    code = "image_aspect_ratio"


@dataclass(frozen=True)
class ImageLimits:
    """What an upload may be. The Django settings ``UPLOAD_MAX_BYTES`` and
    ``UPLOAD_MAX_PIXELS`` feed the first two."""

    max_bytes: int = 15 * 1024 * 1024
    max_pixels: int = 40_000_000
    #: longer side / shorter side; a 1:30 strip is a banner or an attack, not a garment.
    max_aspect_ratio: float = 20.0
    min_side: int = 1


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB image and what it was."""

    image: Image.Image
    format: str  # one of SUPPORTED_FORMATS
    #: (width, height) as stored in the file, before EXIF orientation.
    stored_size: tuple[int, int]
    #: the EXIF orientation that was applied (1: none).
    orientation: int
    #: the mode the file decoded to before conversion to RGB (e.g. CMYK, I;16, RGBA).
    source_mode: str

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the upright image: the frame every box refers to."""
        return self.image.size

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.format]


_heif_lock = threading.Lock()
_heif_registered = False


def register_heif() -> None:
    """Teach Pillow HEIC/HEIF (pillow-heif), once per process."""
    global _heif_registered
    if _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _heif_registered = True


def sniff_format(data: bytes) -> str | None:
    """The format by magic bytes: a name of SUPPORTED_FORMATS, another known image type
    (``gif``, ``bmp``, ``tiff``, ``avif``, ``ico``...), or ``None`` for no image at all."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        brands = {data[8:12]}
        # Compatible brands follow the minor version, four bytes each, up to the box end.
        box_size = struct.unpack(">I", data[:4])[0] if len(data) >= 4 else 0
        for offset in range(16, min(box_size, 64), 4):
            brands.add(data[offset : offset + 4])
        if data[8:12] in _AVIF_BRANDS:
            return "avif"
        if brands & _HEIF_BRANDS:
            return "heic"
        if brands & _AVIF_BRANDS:
            return "avif"
        return None
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:2] == b"BM":
        return "bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[:4] == b"\x00\x00\x01\x00":
        return "ico"
    if data[:4] == b"8BPS":
        return "psd"
    return None


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def check_dimensions(width: int, height: int, limits: ImageLimits) -> None:
    """Refuse a canvas that is too big, too small or too thin (before decoding)."""
    pixels = width * height
    if pixels > limits.max_pixels:
        raise ImageTooManyPixelsError(
            f"The image is {width}x{height} pixels ({pixels / 1e6:.1f} million); "
            f"the limit is {limits.max_pixels / 1e6:.1f} million. Send a smaller photo."
        )
    if min(width, height) < limits.min_side:
        raise ImageTooSmallError(
            f"The image is {width}x{height} pixels; each side needs at least "
            f"{limits.min_side} pixels."
        )
    ratio = max(width, height) / max(1, min(width, height))
    if ratio > limits.max_aspect_ratio:
        raise ImageAspectRatioError(
            f"The image is {width}x{height} pixels: its sides differ by {ratio:.0f} to 1, "
            f"more than {limits.max_aspect_ratio:g} to 1. Crop it closer to the garment."
        )


def decode_image(data: bytes, limits: ImageLimits | None = None) -> DecodedImage:
    """Decode an uploaded image to an upright RGB image.

    Raises:
        ImageError: a subclass naming what is wrong (see ``code``).
    """
    limits = limits or ImageLimits()
    if not data:
        raise ImageEmptyError("The file is empty: no image data was received.")
    if len(data) > limits.max_bytes:
        raise ImageTooLargeError(
            f"The file is {_megabytes(len(data))}; the limit is {_megabytes(limits.max_bytes)}."
        )
    kind = sniff_format(data)
    if kind is None:
        raise NotAnImageError(f"The file is not an image; send a {_ACCEPTED} photo.")
    if kind not in SUPPORTED_FORMATS:
        raise ImageTypeUnsupportedError(
            f"{kind.upper()} images are not supported; send a {_ACCEPTED} photo."
        )
    if kind == "heic":
        register_heif()

    image = _open_header(data, kind, limits)
    stored_size = image.size
    check_dimensions(image.width, image.height, limits)
    image = _load_pixels(image, data, kind)
    orientation = _orientation(image)
    source_mode = image.mode
    upright = ImageOps.exif_transpose(image) if orientation != 1 else image
    rgb = to_rgb(upright)
    if type(rgb) is not Image.Image:  # a plugin's ImageFile (still tied to the bytes)
        rgb = rgb.copy()
    rgb.info.pop("exif", None)
    return DecodedImage(rgb, kind, stored_size, orientation, source_mode)


def _open_header(data: bytes, kind: str, limits: ImageLimits) -> Image.Image:
    """Open lazily: Pillow reads only the header here, so the size is known before pixels."""
    formats = {"jpeg": ["JPEG"], "png": ["PNG"], "webp": ["WEBP"], "heic": ["HEIF"]}[kind]
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard warns (and raises past twice its limit); ours decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=formats)
    except Image.DecompressionBombError as exc:
        # Pillow's guard fired first (past twice its own limit); its message has the count.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        declared = f"{int(found.group(1)) / 1e6:.1f} million" if found else "too many"
        raise ImageTooManyPixelsError(
            f"The image declares {declared} pixels; the limit is "
            f"{limits.max_pixels / 1e6:.1f} million. Send a smaller photo."
        ) from exc
    except UnidentifiedImageError as exc:
        if len(data) < 64:
            raise ImageTruncatedError(
                f"The {kind.upper()} data is cut short; upload the whole file."
            ) from exc
        raise ImageCorruptError(
            f"The file looks like {kind.upper()} but its header cannot be read."
        ) from exc
    except (OSError, EOFError, SyntaxError, ValueError, struct.error) as exc:
        raise _load_error(kind, exc) from exc
    return image


def _load_pixels(image: Image.Image, data: bytes, kind: str) -> Image.Image:
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # a global someone may have set; we never accept it
        logger.warning("ml.image_truncated_images_global_on")
    try:
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # animated WebP: the first frame
        image.load()
    except (OSError, EOFError, SyntaxError, ValueError, struct.error, zlib.error) as exc:
        raise _load_error(kind, exc) from exc
    return image


def _load_error(kind: str, exc: BaseException) -> ImageError:
    text = str(exc).lower()
    if isinstance(exc, EOFError) or any(
        word in text for word in ("truncated", "premature end", "end of file", "eof", "too short")
    ):
        return ImageTruncatedError(
            f"The {kind.upper()} data is cut short (truncated); upload the whole file."
        )
    return ImageCorruptError(f"The {kind.upper()} image is damaged and cannot be decoded.")


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not refuse an otherwise good photo
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def to_rgb(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Any Pillow mode as 8-bit RGB; transparency is composited over ``background``."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _high_depth_to_rgb(image)
    if mode == "P" or mode == "PA":
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        mode = image.mode
    if mode in ("RGBa", "La"):
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA") or (mode in ("L", "RGB") and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*background, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return image.convert("RGB")


def _high_depth_to_rgb(image: Image.Image) -> Image.Image:
    """16-bit and float greyscale to 8 bits by scaling (Pillow's convert would clip)."""
    array = np.asarray(image)
    if image.mode == "F":
        values = array.astype(np.float64)
        peak = float(values.max()) if values.size else 0.0
        scaled = values * 255.0 if peak <= 1.0 else values * (255.0 / peak)
    else:
        values = array.astype(np.float64)
        scaled = values / 257.0  # 65535 → 255
    grey = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")
