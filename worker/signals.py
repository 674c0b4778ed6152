"""Worker life-cycle hooks: announce each worker (and the models it serves) to health."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from celery.signals import worker_process_init, worker_ready, worker_shutdown

logger = logging.getLogger(__name__)


def _registry() -> tuple[Any, str]:
    from django.core.cache import cache

    from backend.health import WORKER_HEARTBEAT_KEY

    return cache, WORKER_HEARTBEAT_KEY


@worker_ready.connect
def announce_worker(sender: Any = None, **kwargs: Any) -> None:
    from ml.capabilities import describe_models_dict
    from ml.settings import MLSettings

    cache, key = _registry()
    hostname = getattr(sender, "hostname", "worker")
    queues = sorted(q.name for q in sender.app.amqp.queues.consume_from.values()) if sender else []
    workers = cache.get(key) or {}
    workers[hostname] = {
        "queues": queues,
        "pid": os.getpid(),
        "since": time.time(),
        "models": describe_models_dict(MLSettings.from_env()),
    }
    cache.set(key, workers, timeout=None)
    logger.info("worker.ready hostname=%s queues=%s", hostname, ",".join(queues))


@worker_process_init.connect
def load_models(**kwargs: Any) -> None:
    """Each pool process of a worker that takes vision tasks loads its models once, after
    fork (never at import, never per task); the log says which model or default serves."""
    from ml.registry import get_registry
    from worker.celery import app
    from worker.routes import VISION_QUEUE

    queues = {q.name for q in (app.amqp.queues.consume_from or {}).values()}
    if queues and VISION_QUEUE not in queues:
        return
    get_registry().load_all()  # the registry logs which model or default serves each role
    logger.info("worker.models_ready pid=%s", os.getpid())


@worker_shutdown.connect
def retire_worker(sender: Any = None, **kwargs: Any) -> None:
    cache, key = _registry()
    workers = cache.get(key) or {}
    workers.pop(getattr(sender, "hostname", "worker"), None)
    cache.set(key, workers, timeout=None)
