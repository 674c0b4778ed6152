"""Weight sources: local files checked with errors naming the variable; S3 keys fetched
once into the model cache from an S3-compatible server (moto, on loopback)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ml.base import ModelLoadError
from ml.weights import (
    S3Location,
    file_digest,
    parse_s3_url,
    resolve_weights,
    s3_cache_path,
)


def test_a_local_file_resolves_to_itself(tmp_path):
    path = tmp_path / "w.pt"
    path.write_bytes(b"weights")
    assert resolve_weights(str(path), variable="ML_X", cache_dir=tmp_path) == path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: None, "file not found"),
        (lambda p: p.mkdir(), "not a file"),
        (lambda p: p.write_bytes(b""), "file is empty"),
    ],
)
def test_a_bad_local_file_is_a_named_error(tmp_path, make, reason):
    path = tmp_path / "w.pt"
    make(path)
    with pytest.raises(ModelLoadError, match=f"ML_GARMENT_WEIGHTS={path}: {reason}"):
        resolve_weights(str(path), variable="ML_GARMENT_WEIGHTS", cache_dir=tmp_path)


def test_s3_urls_parse_and_cache_under_bucket_and_key(tmp_path):
    location = parse_s3_url("s3://models/detector/v3/garments.pt")
    assert location == S3Location("models", "detector/v3/garments.pt")
    assert s3_cache_path(location, tmp_path) == tmp_path / "s3/models/detector/v3/garments.pt"
    # A key cannot climb out of the cache.
    assert (
        s3_cache_path(S3Location("b", "../../etc/passwd"), tmp_path) == tmp_path / "s3/b/etc/passwd"
    )
    assert parse_s3_url("/models/garments.pt") is None
    with pytest.raises(ValueError):
        parse_s3_url("s3://bucket-only")


def test_the_digest_changes_with_the_bytes(tmp_path):
    path = tmp_path / "w.pt"
    path.write_bytes(b"one")
    first = file_digest(path)
    path.write_bytes(b"two")
    os.utime(path, ns=(1, 1))
    assert len(first) == 12 and file_digest(path) != first


@pytest.fixture
def s3_server(monkeypatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield f"http://{host}:{port}"
    server.stop()


def test_s3_weights_are_fetched_once_into_the_cache(tmp_path, s3_server):
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server)
    client.create_bucket(Bucket="models")
    client.put_object(Bucket="models", Key="yolo/garments.pt", Body=b"trained weights")
    source = "s3://models/yolo/garments.pt"
    path = resolve_weights(
        source, variable="ML_GARMENT_WEIGHTS", cache_dir=tmp_path, s3_endpoint_url=s3_server
    )
    assert path == tmp_path / "s3/models/yolo/garments.pt"
    assert path.read_bytes() == b"trained weights"
    client.delete_object(Bucket="models", Key="yolo/garments.pt")
    # Later loads (other processes too) use the cached copy: S3 is not asked again.
    again = resolve_weights(
        source, variable="ML_GARMENT_WEIGHTS", cache_dir=tmp_path, s3_endpoint_url=s3_server
    )
    assert again == path
    assert [p.name for p in path.parent.iterdir() if not p.name.startswith(".")] == ["garments.pt"]


def test_a_missing_s3_key_is_a_named_error(tmp_path, s3_server):
    import boto3

    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket="models")
    with pytest.raises(
        ModelLoadError, match=r"ML_ENCODER_WEIGHTS=s3://models/resnet\.pth: object not found"
    ):
        resolve_weights(
            "s3://models/resnet.pth",
            variable="ML_ENCODER_WEIGHTS",
            cache_dir=tmp_path,
            s3_endpoint_url=s3_server,
        )
    assert not Path(tmp_path / "s3/models/resnet.pth").exists()
