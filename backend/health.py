"""Health of the parts the service needs: database, cache, broker, storage, models."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection

from ml.capabilities import describe_models_dict
from ml.settings import MLSettings

logger = logging.getLogger(__name__)

WORKER_HEARTBEAT_KEY = "health:workers"


@dataclass
class CheckResult:
    ok: bool
    ms: float
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_cache() -> dict[str, Any]:
    key, token = "health:probe", uuid.uuid4().hex
    cache.set(key, token, timeout=30)
    if cache.get(key) != token:
        raise RuntimeError("value written to the cache could not be read back")
    return {"backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def check_broker() -> dict[str, Any]:
    from worker.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=settings.HEALTH_CHECK_TIMEOUT
        )
        return {
            "transport": conn.transport_cls
            if isinstance(conn.transport_cls, str)
            else conn.transport.driver_type
        }


def check_storage() -> dict[str, Any]:
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:
        default_storage.connection.meta.client.head_bucket(Bucket=bucket)
        return {"backend": "s3", "bucket": bucket}
    root = settings.MEDIA_ROOT
    os.makedirs(root, exist_ok=True)
    if not os.access(root, os.W_OK):
        raise PermissionError(f"media folder {root} is not writable")
    return {"backend": "filesystem"}


def models_status() -> dict[str, Any]:
    """The configured model per role, and what running workers reported they loaded."""
    return {
        "configured": describe_models_dict(MLSettings.from_env()),
        "workers": cache.get(WORKER_HEARTBEAT_KEY) or {},
    }


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
}


def run_checks() -> dict[str, CheckResult]:
    results: dict[str, CheckResult] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            info = check()
        except Exception as exc:  # a health check reports every failure, whatever its type
            ms = (time.perf_counter() - started) * 1000
            logger.warning("health.check_failed check=%s error=%s", name, exc)
            results[name] = CheckResult(False, round(ms, 1), f"{type(exc).__name__}: {exc}")
        else:
            ms = (time.perf_counter() - started) * 1000
            results[name] = CheckResult(True, round(ms, 1), info=info)
    return results
