"""ResNet50 encoder benchmark: images/s at batch 16 (eager torch, inference_mode +
channels_last, ONNX Runtime fp32, ONNX Runtime int8) and how close int8 vectors stay to
fp32 (cosine, top-10 neighbour overlap).

No real weights can be had here, so the network is torchvision's resnet50 with random
initial weights. Speed does not depend on the weight values. Quality does: a randomly
initialised ResNet50 maps every image to almost the same direction (pairwise cosine
> 0.99), which makes "cosine to fp32" trivially high and neighbour overlap fragile. So the
quality check runs twice: on the raw random network, and on the same network after its
BatchNorm statistics are re-estimated on real photos (``conditioned``), which spreads the
vectors apart somewhat. Neither replaces a check with trained weights: with
``BENCH_ENCODER_WEIGHTS=/path/resnet50.pth`` (a real checkpoint) the quality check runs on
it as well and the targets (cosine >= 0.99, top-10 overlap >= 0.9) are asserted there.

    make bench PYTEST_ARGS="-k encoders -s"
    BENCH_ENCODER_IMAGES=128 (timed images), BENCH_QUALITY_IMAGES=300 (quality set)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml.onnx_export import generated_calibration_images
from ml.preprocess import RESNET50_IMAGENET, to_batch
from ml.resnet import ResNetEncoder
from ml.settings import MLSettings

pytestmark = pytest.mark.bench

DATA = Path(os.environ.get("SHARED_DATA", "/work/shared/data")) / "clothing-small"
THREADS = int(os.environ.get("ML_NUM_THREADS", "2"))
TIMED = int(os.environ.get("BENCH_ENCODER_IMAGES", "128"))
QUALITY = int(os.environ.get("BENCH_QUALITY_IMAGES", "300"))
BATCH = 16
OUT = Path(os.environ.get("BENCH_OUT", "var/bench"))
REAL_WEIGHTS = os.environ.get("BENCH_ENCODER_WEIGHTS")


def photos(split: str, count: int) -> list[Image.Image]:
    """Real garment photos spread over the classes, else generated garment pictures."""
    folder = DATA / split
    if not folder.is_dir():
        return generated_calibration_images(count, seed=7 if split == "validation" else 3)
    files = sorted(folder.rglob("*.jpg"))
    picked = [files[int(i)] for i in np.linspace(0, len(files) - 1, min(count, len(files)))]
    return [Image.open(p).convert("RGB") for p in picked]


def save_random_resnet(path: Path, conditioning: list[Image.Image] | None) -> Path:
    import torch
    from torchvision.models import resnet50

    torch.manual_seed(0)
    model = resnet50(weights=None)
    if conditioning:
        # Re-estimate BatchNorm running statistics on real photos (train mode, no grad).
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.reset_running_stats()
                module.momentum = None  # cumulative average over the batches
        model.train()
        batch = torch.from_numpy(to_batch(conditioning, RESNET50_IMAGENET))
        with torch.no_grad():
            for start in range(0, len(batch), 32):
                model(batch[start : start + 32])
        model.eval()
    torch.save(model.state_dict(), path)
    return path


def images_per_second(run: Callable[[], object], images: int, repeats: int = 3) -> float:
    run()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return images / best


def top_k(vectors: np.ndarray, k: int = 10) -> np.ndarray:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1)[:, :k]


def agreement(fp32: np.ndarray, int8: np.ndarray) -> dict[str, float]:
    cos = (fp32 * int8).sum(axis=1)
    a, b = top_k(fp32), top_k(int8)
    overlap = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b, strict=True)])
    pairwise = fp32 @ fp32.T
    off = pairwise[~np.eye(len(fp32), dtype=bool)]
    return {
        "cosine_mean": float(cos.mean()),
        "cosine_min": float(cos.min()),
        "top10_overlap": float(overlap),
        "fp32_pairwise_cosine_p50": float(np.median(off)),
        "fp32_pairwise_cosine_p05": float(np.percentile(off, 5)),
    }


def encoder(weights: Path, cache: Path, runtime: str, precision: str, calib: Path | None):
    return ResNetEncoder(
        MLSettings(
            encoder="resnet50",
            encoder_weights=str(weights),
            runtime=runtime,
            precision=precision,
            model_cache_dir=cache,
            num_threads=THREADS,
            encoder_batch_size=BATCH,
            calibration_dir=calib,
            calibration_size=64,
        )
    )


def test_resnet50_encoder_speed_and_int8_agreement(tmp_path_factory):
    import torch

    torch.set_num_threads(THREADS)
    work = tmp_path_factory.mktemp("encoders")
    real = (DATA / "train").is_dir()
    calib_dir = DATA / "train" if real else None
    timed_images = photos("validation", TIMED)
    quality_images = photos("validation", QUALITY)
    results: dict[str, object] = {
        "threads": THREADS,
        "batch": BATCH,
        "timed_images": len(timed_images),
        "quality_images": len(quality_images),
        "images": "clothing-small" if real else "generated",
    }

    random_weights = save_random_resnet(work / "random.pth", None)
    conditioned = save_random_resnet(work / "conditioned.pth", photos("train", 256))

    # --- speed (random weights; values do not change the arithmetic) ---
    batch = to_batch(timed_images, RESNET50_IMAGENET)
    batches = [batch[i : i + BATCH] for i in range(0, len(batch), BATCH)]
    from ml.resnet import load_resnet50

    eager = load_resnet50(random_weights)

    def run_eager() -> None:
        with torch.no_grad():
            for b in batches:
                eager(torch.from_numpy(b))

    speed: dict[str, float] = {"torch_eager_fp32": images_per_second(run_eager, len(batch))}
    encoders = {
        "torch_inference_mode_channels_last_fp32": encoder(
            random_weights, work / "cache", "torch", "fp32", calib_dir
        ),
        "onnxruntime_fp32": encoder(random_weights, work / "cache", "onnx", "fp32", calib_dir),
        "onnxruntime_int8": encoder(random_weights, work / "cache", "onnx", "int8", calib_dir),
    }
    for name, enc in encoders.items():
        enc.load()
        speed[name] = images_per_second(lambda e=enc: [e._features(b) for b in batches], len(batch))
        speed[name + "_with_preprocessing"] = images_per_second(
            lambda e=enc: e.encode_array(timed_images), len(timed_images), repeats=1
        )
    results["images_per_second"] = {k: round(v, 1) for k, v in speed.items()}

    # --- int8 agreement with fp32 ---
    quality: dict[str, dict[str, float]] = {}
    candidates = [("random_init", random_weights), ("conditioned", conditioned)]
    if REAL_WEIGHTS:
        candidates.append(("configured", Path(REAL_WEIGHTS)))
    for label, weights in candidates:
        fp32 = encoder(weights, work / "cache", "onnx", "fp32", calib_dir).encode_array(
            quality_images
        )
        int8 = encoder(weights, work / "cache", "onnx", "int8", calib_dir).encode_array(
            quality_images
        )
        quality[label] = {k: round(v, 4) for k, v in agreement(fp32, int8).items()}
    results["int8_vs_fp32"] = quality
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "encoders.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))

    # Random weights: int8 must at least keep the direction (see the module docstring for
    # why neighbour overlap is not asserted on them). Real weights: the targets.
    assert quality["random_init"]["cosine_mean"] >= 0.99, quality
    assert quality["conditioned"]["cosine_mean"] >= 0.98, quality
    if REAL_WEIGHTS:
        assert quality["configured"]["cosine_mean"] >= 0.99, quality
        assert quality["configured"]["top10_overlap"] >= 0.9, quality
