"""The checks every incoming image passes before anything is stored.

One entry point, :func:`check_image_bytes`, used by every way an image arrives (API
uploads, direct uploads, the admin, the catalog import). It delegates to the ml image
intake (:func:`ml.image.decode_image`): the type by content (never by name), the size, the
pixel count before decoding (decompression bombs), the aspect ratio, and that the image
really decodes, EXIF orientation applied. A refusal is a 400 whose ``code`` is the intake's
(``image_empty``, ``image_truncated``, ``not_an_image``, ``image_type_unsupported``,
``image_too_large``, ``image_too_many_pixels``, ``image_aspect_ratio``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from backend.api.errors import ApplicationError
from ml.image import ImageError, ImageLimits, decode_image

_EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "heic": ".heic"}


class ImageRejected(ApplicationError):
    """The bytes are not an image the service accepts; the message says why."""

    status_code = 400
    code = "invalid_image"
    default_message = "The file is not an image the service accepts."


@dataclass(frozen=True)
class CheckedImage:
    """What the checks found: the format by content and the upright size."""

    format: str  # jpeg, png, webp or heic
    mime: str
    width: int
    height: int
    size: int

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self.format]


def check_image_bytes(
    data: bytes, *, max_bytes: int | None = None, max_pixels: int | None = None
) -> CheckedImage:
    """Check an image's bytes; raise :class:`ImageRejected` with a reason a person can act on.

    Args:
        data: the file's bytes, as received.
        max_bytes: largest accepted size (default ``settings.UPLOAD_MAX_BYTES``).
        max_pixels: largest accepted width x height (default ``settings.UPLOAD_MAX_PIXELS``).
    """
    limits = ImageLimits(
        max_bytes=settings.UPLOAD_MAX_BYTES if max_bytes is None else max_bytes,
        max_pixels=settings.UPLOAD_MAX_PIXELS if max_pixels is None else max_pixels,
    )
    try:
        decoded = decode_image(data, limits)
    except ImageError as exc:
        raise ImageRejected(str(exc), code=exc.code) from None
    width, height = decoded.size
    return CheckedImage(
        format=decoded.format, mime=decoded.mime_type, width=width, height=height, size=len(data)
    )
