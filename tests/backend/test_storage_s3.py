"""Media on an S3-compatible server: a real one on loopback (moto in server mode).

Uploads, reads, signed URLs and deletes go through the same settings and storage class
(backend.storage.MediaS3Storage) the service uses when AWS_STORAGE_BUCKET_NAME is set.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import boto3
import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import override_settings
from moto.server import ThreadedMotoServer

from apps.catalog import services
from apps.catalog.models import ProductImage
from backend.storage import MediaS3Storage
from tests.apps.catalog.conftest import ProductFactory, image_bytes, sent_tasks  # noqa: F401

BUCKET = "media-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_settings(endpoint: str, public: str | None = None) -> dict:
    """What config/settings/base.py sets when AWS_STORAGE_BUCKET_NAME is in the environment."""
    return {
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing-secret",
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_PUBLIC_ENDPOINT_URL": public,
        "AWS_S3_ADDRESSING_STYLE": "path",
        "AWS_S3_SIGNATURE_VERSION": "s3v4",
        "AWS_QUERYSTRING_AUTH": True,
        "AWS_QUERYSTRING_EXPIRE": 600,
        "AWS_DEFAULT_ACL": None,
        "AWS_S3_FILE_OVERWRITE": False,
        "STORAGES": {
            "default": {"BACKEND": "backend.storage.MediaS3Storage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    }


@pytest.fixture
def bucket(s3_server: str) -> Iterator[object]:
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_upload_read_sign_and_delete_round_trip(s3_server, bucket):
    data = image_bytes()
    with override_settings(**s3_settings(s3_server)):
        name = default_storage.save("catalog/round-trip.png", ContentFile(data))
        assert isinstance(default_storage._wrapped, MediaS3Storage)

        stored = bucket.get_object(Bucket=BUCKET, Key=name)["Body"].read()
        with default_storage.open(name, "rb") as handle:
            read_back = handle.read()
        url = default_storage.url(name)
        fetched = requests.get(url, timeout=5)
        default_storage.delete(name)

    assert stored == read_back == data
    assert "X-Amz-Signature=" in url and urlparse(url).netloc == urlparse(s3_server).netloc
    assert fetched.status_code == 200 and fetched.content == data
    assert "Contents" not in bucket.list_objects_v2(Bucket=BUCKET)


def test_urls_are_signed_for_the_public_host_name(s3_server, bucket):
    port = urlparse(s3_server).port
    public = f"http://localhost:{port}"  # the name a phone uses; the service talks to 127.0.0.1
    with override_settings(**s3_settings(s3_server, public=public)):
        name = default_storage.save("catalog/public.png", ContentFile(image_bytes()))
        url = default_storage.url(name)

    parsed = urlparse(url)
    assert parsed.netloc == f"localhost:{port}"
    assert parsed.path == f"/{BUCKET}/{name}"
    assert "X-Amz-Signature=" in parsed.query and "X-Amz-Expires=600" in parsed.query
    assert requests.get(url, timeout=5).content == image_bytes()


@pytest.mark.usefixtures("sent_tasks")
def test_a_product_image_goes_to_the_bucket_and_the_api_gives_a_loadable_url(
    s3_server, bucket, db, api_client, django_capture_on_commit_callbacks
):
    port = urlparse(s3_server).port
    with override_settings(**s3_settings(s3_server, public=f"http://localhost:{port}")):
        product = ProductFactory()
        image = services.product_image_add(product=product, data=image_bytes())
        keys = [o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]]

        body = api_client.get(f"/api/v1/products/{product.pk}").json()
        response = requests.get(body["image_url"], timeout=5)

        with django_capture_on_commit_callbacks(execute=True):
            services.product_image_delete(image=ProductImage.objects.get(pk=image.pk))

    assert keys == [image.file.name]
    assert urlparse(body["image_url"]).netloc == f"localhost:{port}"
    assert response.status_code == 200 and response.content == image_bytes()
    assert "Contents" not in bucket.list_objects_v2(Bucket=BUCKET)


def test_health_reports_the_bucket(s3_server, bucket, db, api_client):
    with override_settings(**s3_settings(s3_server)):
        storage = api_client.get("/api/v1/health").json()["checks"]["storage"]

    assert storage["ok"] is True
    assert storage["info"] == {"backend": "s3", "bucket": BUCKET}
