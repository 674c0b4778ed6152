"""Large photos straight from the phone to S3: a presigned POST, then the key is registered.

1. ``direct_upload_start`` hands the app a presigned POST for a fresh key under
   ``uploads/<user id>/`` with a size limit enforced by S3 itself;
2. the app POSTs the file to S3 directly;
3. the app registers the key (e.g. ``POST /api/v1/closet/items {"upload_key": ...}``):
   ``direct_upload_consume`` reads the object, which the caller checks like any upload,
   and deletes it (the caller stores its own copy).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage

from backend.api.errors import ApplicationError, NotFoundError

UPLOAD_PREFIX = "uploads"
TICKET_SECONDS = 900


class DirectUploadUnavailable(ApplicationError):
    status_code = 409
    code = "direct_upload_unavailable"
    default_message = (
        "Direct uploads need S3 storage, which this deployment does not use; "
        "send the photo as multipart/form-data instead."
    )


def _s3_storage() -> Any:
    if not getattr(default_storage, "bucket_name", None):
        raise DirectUploadUnavailable()
    return default_storage


def direct_upload_start(*, user: Any) -> dict[str, Any]:
    storage = _s3_storage()
    key = f"{UPLOAD_PREFIX}/{user.pk}/{uuid.uuid4().hex}"
    client = getattr(storage, "_public_client", None) or storage.connection.meta.client
    post = client.generate_presigned_post(
        Bucket=storage.bucket_name,
        Key=storage._normalize_name(key),
        Conditions=[["content-length-range", 1, settings.UPLOAD_MAX_BYTES]],
        ExpiresIn=TICKET_SECONDS,
    )
    return {
        "url": post["url"],
        "fields": post["fields"],
        "key": key,
        "max_bytes": settings.UPLOAD_MAX_BYTES,
        "expires_in": TICKET_SECONDS,
    }


def direct_upload_consume(*, user: Any, key: str) -> bytes:
    """The bytes the user uploaded under ``key``; the object is removed afterwards."""
    storage = _s3_storage()
    if not key.startswith(f"{UPLOAD_PREFIX}/{user.pk}/") or ".." in key:
        raise NotFoundError("No such upload.")
    if not storage.exists(key):
        raise NotFoundError("No upload under that key: it expired, or the upload to S3 failed.")
    with storage.open(key, "rb") as handle:
        data = handle.read(settings.UPLOAD_MAX_BYTES + 1)
    storage.delete(key)
    if len(data) > settings.UPLOAD_MAX_BYTES:
        raise ApplicationError("The uploaded photo is too large.", code="image_too_large")
    return bytes(data)
