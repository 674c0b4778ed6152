"""The beat schedule: periodic work, each entry on its task's own queue."""

from __future__ import annotations

from typing import Any

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "catalog-sweep-product-images": {
        "task": "worker.tasks.catalog.sweep_product_images",
        "schedule": 300.0,
    },
}
