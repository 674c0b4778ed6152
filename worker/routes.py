"""Which queue each task runs on."""

from __future__ import annotations

from typing import Any

VISION_QUEUE = "vision"
DEFAULT_QUEUE = "default"

# Tasks that load models (detection, encoding) run on the vision queue.
TASK_ROUTES: dict[str, str] = {
    "worker.tasks.sweep_stuck_processing": DEFAULT_QUEUE,
    "worker.tasks.process_closet_item": VISION_QUEUE,
    "worker.tasks.process_search": VISION_QUEUE,
    "worker.tasks.catalog.process_product_image": VISION_QUEUE,
    "worker.tasks.catalog.rebuild_index": VISION_QUEUE,
    "worker.tasks.catalog.maintain_indexes": VISION_QUEUE,
}


def route_task(
    name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any
) -> dict[str, str]:
    return {"queue": TASK_ROUTES.get(name, DEFAULT_QUEUE)}
