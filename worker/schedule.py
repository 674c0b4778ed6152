"""The beat schedule: periodic work, each entry on its task's own queue."""

from __future__ import annotations

import os
from typing import Any

SWEEP_EVERY_SECONDS = float(os.environ.get("SWEEP_EVERY_SECONDS", "60"))

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "sweep-stuck-processing": {
        "task": "worker.tasks.sweep_stuck_processing",
        "schedule": SWEEP_EVERY_SECONDS,
        "options": {"queue": "default", "expires": SWEEP_EVERY_SECONDS},
    },
    "catalog-maintain-indexes": {
        "task": "worker.tasks.catalog.maintain_indexes",
        "schedule": float(os.environ.get("INDEX_MAINTAIN_EVERY_SECONDS", "60")),
        "options": {"expires": 60},
    },
}
