"""The checks every incoming image passes before anything is stored.

One entry point, :func:`check_image_bytes`, used by every way an image arrives (API
uploads, the admin, the catalog import). It checks the type by content (not by name),
the size, the pixel count (decompression bombs) and that the image really decodes, with
the EXIF orientation applied to the reported size.

The checks are done with Pillow here; once ``ml.image`` (the image intake module) lands,
this function delegates the decoding to it and keeps its signature, so callers do not
change.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from backend.api.errors import ApplicationError

try:  # HEIC/HEIF photos from phones; optional at import time
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is in requirements
    pass

#: Formats accepted, by the name Pillow gives them after reading the content.
ACCEPTED_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heif",
}


class ImageRejected(ApplicationError):
    """The bytes are not an image the service accepts; the message says why."""

    status_code = 400
    code = "invalid_image"
    default_message = "The file is not an image the service accepts."


@dataclass(frozen=True)
class CheckedImage:
    """What the checks found: the format by content and the size once oriented."""

    format: str
    mime: str
    width: int
    height: int
    size: int

    @property
    def extension(self) -> str:
        return {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "HEIF": ".heic"}[self.format]


def check_image_bytes(
    data: bytes, *, max_bytes: int | None = None, max_pixels: int | None = None
) -> CheckedImage:
    """Check an image's bytes; raise :class:`ImageRejected` with a reason a person can act on.

    Args:
        data: the file's bytes, as received.
        max_bytes: largest accepted size (default ``settings.UPLOAD_MAX_BYTES``).
        max_pixels: largest accepted width x height (default ``settings.UPLOAD_MAX_PIXELS``).
    """
    max_bytes = settings.UPLOAD_MAX_BYTES if max_bytes is None else max_bytes
    max_pixels = settings.UPLOAD_MAX_PIXELS if max_pixels is None else max_pixels
    if not data:
        raise ImageRejected("The file is empty.")
    if len(data) > max_bytes:
        raise ImageRejected(
            f"The file is {len(data) / 1e6:.1f} MB; "
            f"the largest accepted is {max_bytes / 1e6:.1f} MB."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = (image.format or "").upper()
            if fmt not in ACCEPTED_FORMATS:
                raise ImageRejected(
                    f"Images of type {fmt or 'unknown'} are not accepted; "
                    "send a JPEG, PNG, WebP or HEIC photo."
                )
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRejected(
                    f"The image is {width}x{height} pixels; the largest accepted is "
                    f"{max_pixels / 1e6:.0f} megapixels."
                )
            image.load()
            oriented = ImageOps.exif_transpose(image)
    except ImageRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(
            "The file is not an image the service can read; send a JPEG, PNG, WebP or HEIC photo."
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(f"The image is damaged and cannot be decoded ({exc}).") from None
    width, height = oriented.size
    if width < 1 or height < 1:
        raise ImageRejected("The image has no pixels.")
    return CheckedImage(
        format=fmt, mime=ACCEPTED_FORMATS[fmt], width=width, height=height, size=len(data)
    )
