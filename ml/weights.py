"""Where weight files come from: a local path, or an S3 key fetched once into a local cache.

Nothing here (or anywhere in ``ml``) downloads a model from the internet: a source is a
file the operator put on the machine or in their own bucket. A missing or unreadable
source is a :class:`~ml.base.ModelLoadError` whose message names the variable to fix.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ml.base import ModelLoadError

logger = logging.getLogger(__name__)

_DIGEST_CACHE: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str


def parse_s3_url(source: str) -> S3Location | None:
    """``s3://bucket/some/key.pt`` → its bucket and key; ``None`` for a local path."""
    if not source.startswith("s3://"):
        return None
    rest = source[len("s3://") :]
    bucket, _, key = rest.partition("/")
    if not bucket or not key or key.endswith("/"):
        raise ValueError(f"{source}: expected s3://bucket/key")
    return S3Location(bucket, key)


def s3_cache_path(location: S3Location, cache_dir: Path) -> Path:
    """Where an S3 object is kept locally: ``<cache>/s3/<bucket>/<key>``."""
    parts = [p for p in location.key.split("/") if p not in ("", ".", "..")]
    return cache_dir / "s3" / location.bucket / Path(*parts)


def check_local_file(path: Path, *, variable: str, source: str | None = None) -> Path:
    """``path`` if it is a readable, non-empty file, else the named error."""
    shown = f"{variable}={source if source is not None else path}"
    if not path.exists():
        raise ModelLoadError(f"{shown}: file not found")
    if not path.is_file():
        raise ModelLoadError(f"{shown}: not a file")
    if not os.access(path, os.R_OK):
        raise ModelLoadError(f"{shown}: file not readable")
    if path.stat().st_size == 0:
        raise ModelLoadError(f"{shown}: file is empty")
    return path


def resolve_weights(
    source: str,
    *,
    variable: str,
    cache_dir: Path,
    s3_endpoint_url: str | None = None,
) -> Path:
    """The local file for a configured weight source.

    Args:
        source: a local path, or ``s3://bucket/key`` (fetched once into ``cache_dir``; later
            calls, and other processes, reuse the cached copy).
        variable: the environment variable that configured it, for error messages.
        cache_dir: ``ML_MODEL_CACHE_DIR``.
        s3_endpoint_url: an S3-compatible endpoint (MinIO); ``None`` for AWS.

    Raises:
        ModelLoadError: the file is missing, unreadable, empty, or the S3 fetch failed.
    """
    try:
        location = parse_s3_url(source)
    except ValueError as exc:
        raise ModelLoadError(f"{variable}={exc}") from exc
    if location is None:
        return check_local_file(Path(source), variable=variable, source=source)
    target = s3_cache_path(location, cache_dir)
    if target.is_file() and target.stat().st_size > 0:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # One process fetches; the others wait on the lock and find the file there.
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target.is_file() and target.stat().st_size > 0):
            _fetch_s3(location, target, variable=variable, source=source, endpoint=s3_endpoint_url)
    return check_local_file(target, variable=variable, source=source)


def _fetch_s3(
    location: S3Location, target: Path, *, variable: str, source: str, endpoint: str | None
) -> None:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    logger.info("ml.weights_fetch source=%s target=%s", source, target)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(fd)
    try:
        client = boto3.client("s3", endpoint_url=endpoint)
        client.download_file(location.bucket, location.key, tmp_name)
        os.replace(tmp_name, target)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        reason = "object not found" if code in ("404", "NoSuchKey", "NoSuchBucket") else str(exc)
        raise ModelLoadError(f"{variable}={source}: {reason}") from exc
    except BotoCoreError as exc:
        raise ModelLoadError(f"{variable}={source}: {exc}") from exc
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def file_digest(path: Path, length: int = 12) -> str:
    """A short SHA-256 of a file's bytes, cached per (path, size, mtime).

    Model versions carry it so vectors made by different weights are never mixed.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    digest = _DIGEST_CACHE.get(key)
    if digest is None:
        sha = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                sha.update(chunk)
        digest = sha.hexdigest()
        _DIGEST_CACHE[key] = digest
    return digest[:length]
