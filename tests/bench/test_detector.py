"""Detector benchmark: YOLOv8s at 640 px, p50 latency in PyTorch and ONNX Runtime.

The weights are built from ultralytics' ``yolov8s.yaml`` (random values; nothing can be
downloaded here), so this is timing only: the network's arithmetic does not depend on the
values, though an untrained model leaves almost nothing for NMS to do. Timed through the
service's own detector (:class:`ml.detection.YoloDetector`, one stage: letterbox,
forward, NMS, mapping back) on a street photo, and the bare network on a 1x3x640x640
tensor.

    make bench PYTEST_ARGS="-k detector -s"
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml.detection import YoloDetector
from ml.settings import MLSettings
from tests.ml.models import DEEPFASHION2_NAMES, save_yolo

pytestmark = pytest.mark.bench

THREADS = int(os.environ.get("ML_NUM_THREADS", "2"))
RUNS = int(os.environ.get("BENCH_DETECTOR_RUNS", "30"))
PHOTOS = Path(os.environ.get("SHARED_DATA", "/work/shared/data")) / "street-photos" / "photos"
OUT = Path(os.environ.get("BENCH_OUT", "var/bench"))


def street_photo() -> Image.Image:
    files = sorted(PHOTOS.glob("*.jpg")) if PHOTOS.is_dir() else []
    if files:
        return Image.open(files[0]).convert("RGB")
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (830, 550, 3), dtype=np.uint8))


def p50_ms(run: Callable[[], object], runs: int = RUNS) -> dict[str, float]:
    for _ in range(3):
        run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p90_ms": round(float(np.percentile(times, 90)), 1),
    }


def test_yolov8s_640_latency(tmp_path_factory):
    import torch

    torch.set_num_threads(THREADS)
    work = tmp_path_factory.mktemp("detector")
    weights = save_yolo(work / "yolov8s-garments.pt", DEEPFASHION2_NAMES, cfg="yolov8s.yaml")
    image = street_photo()
    results: dict[str, object] = {"threads": THREADS, "runs": RUNS, "image": list(image.size)}

    for runtime in ("torch", "onnx"):
        detector = YoloDetector(
            MLSettings(
                garment_weights=str(weights),
                runtime=runtime,
                model_cache_dir=work / "cache",
                num_threads=THREADS,
                detect_image_size=640,
            )
        )
        detector.load()
        results[f"{runtime}_detect"] = p50_ms(lambda d=detector: d.detect(image))

    # The bare network on one letterboxed 640x640 input.
    from ultralytics import YOLO

    network = YOLO(str(weights)).model.float().eval().fuse()
    tensor = torch.rand(1, 3, 640, 640)

    def forward() -> None:
        with torch.inference_mode():
            network(tensor)

    results["torch_network"] = p50_ms(forward)
    from ml.onnx_export import ort_session

    [onnx_path] = (work / "cache" / "yolo").glob("*.onnx")
    session = ort_session(onnx_path, threads=THREADS)
    name = session.get_inputs()[0].name
    array = tensor.numpy()
    results["onnxruntime_network"] = p50_ms(lambda: session.run(None, {name: array}))

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "detector.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    for key in ("torch_detect", "onnx_detect", "torch_network", "onnxruntime_network"):
        assert results[key]["p50_ms"] > 0  # type: ignore[index]
