"""The ResNet50 encoder for ONNX Runtime: fp32 export and int8 static quantisation.

Both are built from the configured weights into the model cache, named by the weights'
hash, the preprocessing and the precision, so a new weights file gets new files and a
process never runs a stale export. The encoder builds them at start-up when missing;
``python -m ml.onnx_export`` builds them ahead (a deploy step or an init container).

int8 uses ONNX Runtime's static quantisation (QDQ, per-channel int8 weights, uint8
activations) calibrated on ``ML_CALIBRATION_DIR`` images when set, else on generated
garment-like images (:func:`generated_calibration_images`). Real photos calibrate better.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter

from ml.base import ModelLoadError
from ml.preprocess import RESNET50_IMAGENET, PreprocessSpec, load_spec_beside, to_batch
from ml.settings import MLSettings
from ml.weights import file_digest, resolve_weights

logger = logging.getLogger(__name__)

OPSET = 17
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif")


def resnet_onnx_path(
    settings: MLSettings, *, weights: Path, spec: PreprocessSpec, precision: str
) -> Path:
    """Where the export of ``weights`` for ``precision`` lives in the model cache."""
    name = f"resnet50-{file_digest(weights, 12)}-{spec.fingerprint}-{spec.size}-{precision}.onnx"
    return settings.model_cache_dir / "onnx" / name


def export_resnet_onnx(weights: Path, target: Path, *, spec: PreprocessSpec) -> Path:
    """ResNet50 (classifier dropped) as ONNX: input ``images`` (n, 3, s, s) float32,
    output ``features`` (n, 2048), batch dimension dynamic."""
    import torch

    from ml.resnet import load_resnet50

    model = load_resnet50(weights)
    dummy = torch.zeros(1, 3, spec.size, spec.size)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".export-", suffix=".onnx")
    os.close(fd)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter, on purpose
            torch.onnx.export(
                model,
                (dummy,),
                tmp,
                input_names=["images"],
                output_names=["features"],
                dynamic_axes={"images": {0: "batch"}, "features": {0: "batch"}},
                opset_version=OPSET,
                dynamo=False,  # the TorchScript exporter: no onnxscript dependency
                do_constant_folding=True,
            )
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    logger.info("ml.onnx_exported weights=%s onnx=%s", weights, target)
    return target


class _BatchReader:
    """ONNX Runtime's CalibrationDataReader protocol over preprocessed batches."""

    def __init__(self, batches: Sequence[npt.NDArray[np.float32]]) -> None:
        self._batches = list(batches)
        self._iter: Iterator[npt.NDArray[np.float32]] = iter(self._batches)

    def get_next(self) -> dict[str, npt.NDArray[np.float32]] | None:
        batch = next(self._iter, None)
        return None if batch is None else {"images": batch}

    def rewind(self) -> None:
        self._iter = iter(self._batches)


def quantize_resnet_int8(
    fp32: Path,
    target: Path,
    *,
    calibration: Sequence[Image.Image],
    spec: PreprocessSpec,
    batch_size: int = 8,
) -> Path:
    """Static int8 quantisation (QDQ; per-channel int8 weights, uint8 activations)."""
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not calibration:
        raise ValueError("int8 quantisation needs calibration images")
    batches = [
        to_batch(calibration[i : i + batch_size], spec)
        for i in range(0, len(calibration), batch_size)
    ]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".quant-") as work:
        prepared = Path(work) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        out = Path(work) / "int8.onnx"
        quantize_static(
            str(prepared),
            str(out),
            _BatchReader(batches),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"CalibMovingAverage": False},
        )
        os.replace(out, target)
    logger.info("ml.onnx_quantized fp32=%s int8=%s images=%d", fp32, target, len(calibration))
    return target


def generated_calibration_images(
    count: int, *, seed: int = 0, size: int = 256
) -> list[Image.Image]:
    """Garment-like pictures (coloured shapes with stripes, checks, noise over varied
    backgrounds) when no real calibration photos are configured."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        bg = tuple(int(v) for v in rng.integers(120, 256, 3))
        image = Image.new("RGB", (size, size), bg)
        draw = ImageDraw.Draw(image)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        cx, cy = size / 2 + rng.normal(0, size / 12, 2)
        w, h = rng.uniform(0.35, 0.6) * size, rng.uniform(0.45, 0.8) * size
        body = [
            (cx - w / 2, cy - h / 2),
            (cx + w / 2, cy - h / 2),
            (cx + w / 2 * rng.uniform(0.8, 1.3), cy + h / 2),
            (cx - w / 2 * rng.uniform(0.8, 1.3), cy + h / 2),
        ]
        draw.polygon(body, fill=colour)
        if rng.random() < 0.6:  # sleeves
            draw.polygon([body[0], (body[0][0] - w / 3, cy), (body[0][0], cy - h / 6)], fill=colour)
            draw.polygon([body[1], (body[1][0] + w / 3, cy), (body[1][0], cy - h / 6)], fill=colour)
        pattern = rng.integers(0, 4)
        other = tuple(int(v) for v in rng.integers(0, 256, 3))
        step = int(rng.integers(6, 24))
        x0, y0, x1, y1 = (int(cx - w / 2), int(cy - h / 2), int(cx + w / 2), int(cy + h / 2))
        if pattern == 1:
            for y in range(y0, y1, step):
                draw.rectangle([x0, y, x1, y + step // 3], fill=other)
        elif pattern == 2:
            for y in range(y0, y1, step):
                for x in range(x0 + (y // step) % 2 * step, x1, step * 2):
                    draw.rectangle([x, y, x + step - 1, y + step - 1], fill=other)
        elif pattern == 3:
            for _dot in range(int(rng.integers(10, 60))):
                px, py = rng.uniform(x0, x1), rng.uniform(y0, y1)
                draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=other)
        image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 1.2))))
        noise = rng.normal(0, rng.uniform(2, 12), (size, size, 3))
        pixels = np.clip(np.asarray(image, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
        images.append(Image.fromarray(pixels))
    return images


def calibration_images(settings: MLSettings) -> tuple[list[Image.Image], str]:
    """Up to ``ML_CALIBRATION_SIZE`` images from ``ML_CALIBRATION_DIR``, else generated."""
    count = max(1, settings.calibration_size)
    folder = settings.calibration_dir
    if folder is None:
        return generated_calibration_images(count), "generated"
    if not folder.is_dir():
        raise ModelLoadError(f"ML_CALIBRATION_DIR={folder}: not a folder")
    from ml.image import ImageError, decode_image

    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES)
    # An even spread over the sorted files: every class folder gets its share.
    picked = [files[int(i)] for i in np.linspace(0, len(files) - 1, min(count, len(files)))]
    images = []
    for path in picked:
        try:
            images.append(decode_image(path.read_bytes()).image)
        except ImageError as exc:
            logger.warning("ml.calibration_image_skipped path=%s reason=%s", path, exc.code)
    if not images:
        raise ModelLoadError(f"ML_CALIBRATION_DIR={folder}: no decodable images")
    return images, str(folder)


def ensure_resnet_onnx(
    settings: MLSettings, *, weights: Path, spec: PreprocessSpec, precision: str
) -> Path:
    """The cached ONNX model for ``weights`` at ``precision``, built when missing (one
    process builds; others wait on a file lock and reuse it)."""
    target = resnet_onnx_path(settings, weights=weights, spec=spec, precision=precision)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return target
        if precision == "fp32":
            return export_resnet_onnx(weights, target, spec=spec)
        if precision != "int8":
            raise ModelLoadError(f"ML_PRECISION={precision}: expected fp32 or int8")
        fp32 = ensure_resnet_onnx(settings, weights=weights, spec=spec, precision="fp32")
        images, source = calibration_images(settings)
        logger.info("ml.onnx_calibration source=%s images=%d", source, len(images))
        return quantize_resnet_int8(fp32, target, calibration=images, spec=spec)


def ort_session(path: Path, *, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def main(argv: Sequence[str] | None = None) -> int:
    """Build the ONNX encoder files for the configured weights (``ML_*`` variables)."""
    parser = argparse.ArgumentParser(
        prog="python -m ml.onnx_export",
        description="Export the configured ResNet50 (ML_ENCODER_WEIGHTS) to ONNX in "
        "ML_MODEL_CACHE_DIR: fp32, and int8 by static quantisation.",
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "int8", "both", "configured"),
        default="configured",
        help="which file to build (default: ML_PRECISION)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    settings = MLSettings.from_env()
    if not settings.encoder_weights:
        print("ML_ENCODER_WEIGHTS is not set: nothing to export.", file=sys.stderr)
        return 2
    precisions = {
        "configured": [settings.precision],
        "both": ["fp32", "int8"],
        "fp32": ["fp32"],
        "int8": ["int8"],
    }[args.precision]
    try:
        weights = resolve_weights(
            settings.encoder_weights,
            variable="ML_ENCODER_WEIGHTS",
            cache_dir=settings.model_cache_dir,
            s3_endpoint_url=settings.s3_endpoint_url,
        )
        spec = load_spec_beside(weights, RESNET50_IMAGENET)
        for precision in precisions:
            path = ensure_resnet_onnx(settings, weights=weights, spec=spec, precision=precision)
            print(f"{precision}: {path}")
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
