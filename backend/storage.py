"""Media storage on S3/MinIO whose URLs a phone can load.

Inside docker-compose the service reaches MinIO as ``http://minio:9000``, but a phone
cannot, and MinIO checks the Host header a URL was signed for. So uploads and reads go
through ``AWS_S3_ENDPOINT_URL`` while URLs handed to clients are presigned for
``AWS_S3_PUBLIC_ENDPOINT_URL``. Presigning is local computation: no request is made.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any
from urllib.parse import quote

import boto3
from botocore.client import Config
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.views.static import serve
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class MediaS3Storage(S3Storage):
    """django-storages' S3 storage, with client URLs signed for the public endpoint."""

    @property
    def public_endpoint_url(self) -> str | None:
        return getattr(settings, "AWS_S3_PUBLIC_ENDPOINT_URL", None) or None

    @cached_property
    def _public_client(self) -> Any:
        """A client used only to sign URLs: same credentials, the public host name."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.public_endpoint_url or self.endpoint_url,
            region_name=self.region_name,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            aws_session_token=self.security_token,
            config=Config(
                signature_version=self.signature_version or "s3v4",
                s3={"addressing_style": self.addressing_style or "path"},
            ),
        )

    def url(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        if not self.public_endpoint_url or self.custom_domain:
            return super().url(name, parameters=parameters, expire=expire, http_method=http_method)
        key = self._normalize_name(clean_name(name))
        if not self.querystring_auth:  # a public bucket: a plain URL on the public host
            base = self.public_endpoint_url.rstrip("/")
            return f"{base}/{self.bucket_name}/{quote(key)}"
        params = dict(parameters or {})
        params["Bucket"] = self.bucket_name
        params["Key"] = key
        return str(
            self._public_client.generate_presigned_url(
                "get_object",
                Params=params,
                ExpiresIn=self.querystring_expire if expire is None else expire,
                HttpMethod=http_method,
            )
        )


def serve_local_media(request: HttpRequest, path: str) -> HttpResponse:
    """Media on local disk (the embedded profile). With S3 the app gets presigned URLs and
    this answers 404."""
    if not isinstance(default_storage, FileSystemStorage):
        raise Http404("Media is served by the object store.")
    return serve(request, path, document_root=str(default_storage.location))


def file_url(file: Any, request: Any) -> str | None:
    """A URL the app can load: presigned on S3, absolute on local disk."""
    if not file or not file.name:
        return None
    url = str(file.url)
    if request is not None and url.startswith("/"):
        url = request.build_absolute_uri(url)
    return url
