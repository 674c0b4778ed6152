"""Small models built in the tests (random weights, real file formats)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ["YOLO_OFFLINE"] = "1"  # before ultralytics is imported: no online checks

DEEPFASHION2_NAMES = [
    "short_sleeved_shirt",
    "long_sleeved_shirt",
    "short_sleeved_outwear",
    "long_sleeved_outwear",
    "vest",
    "sling",
    "shorts",
    "trousers",
    "skirt",
    "short_sleeved_dress",
    "long_sleeved_dress",
    "vest_dress",
    "sling_dress",
]


def save_yolo(path: Path, names: list[str], cfg: str = "yolov8n.yaml") -> Path:
    """A YOLO detection model built from ultralytics' model yaml (random weights) with
    ``names`` as its classes, saved as a .pt the way a trained model is."""
    from ultralytics import YOLO
    from ultralytics.nn.tasks import DetectionModel

    model = YOLO(cfg)
    network = DetectionModel(cfg, nc=len(names), verbose=False)
    network.names = dict(enumerate(names))
    model.model = network
    model.save(str(path))
    return path
