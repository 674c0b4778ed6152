"""Media storage on S3/MinIO whose URLs a phone can load.

Inside docker-compose the service reaches MinIO as ``http://minio:9000``, but a phone
cannot, and MinIO checks the Host header a URL was signed for. So uploads and reads go
through ``AWS_S3_ENDPOINT_URL`` while URLs handed to clients are presigned for
``AWS_S3_PUBLIC_ENDPOINT_URL``. Presigning is local computation: no request is made.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3
from botocore.client import Config
from django.conf import settings
from storages.backends.s3 import S3Storage


class MediaS3Storage(S3Storage):
    @cached_property
    def _public_client(self) -> Any:
        endpoint = getattr(settings, "AWS_S3_PUBLIC_ENDPOINT_URL", None) or self.endpoint_url
        return boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name=self.region_name,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def url(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        if not getattr(settings, "AWS_S3_PUBLIC_ENDPOINT_URL", None):
            return super().url(name, parameters=parameters, expire=expire, http_method=http_method)
        params = dict(parameters or {})
        params["Bucket"] = self.bucket_name
        params["Key"] = self._normalize_name(self._clean_name(name))
        return self._public_client.generate_presigned_url(
            "get_object",
            Params=params,
            ExpiresIn=expire or self.querystring_expire,
            HttpMethod=http_method,
        )
