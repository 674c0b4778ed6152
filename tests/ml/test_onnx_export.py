"""The ONNX export command and int8 calibration inputs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from ml.base import ModelLoadError
from ml.onnx_export import calibration_images, generated_calibration_images
from ml.settings import MLSettings

ROOT = Path(__file__).resolve().parents[2]


def run_export(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    child = {k: v for k, v in os.environ.items() if not k.startswith("ML_")}
    child.update(env)
    return subprocess.run(
        [sys.executable, "-m", "ml.onnx_export", *args],
        cwd=ROOT,
        env=child,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_the_export_command_builds_the_configured_model_into_the_cache(tmp_path, resnet_weights):
    result = run_export(
        {"ML_ENCODER_WEIGHTS": str(resnet_weights), "ML_MODEL_CACHE_DIR": str(tmp_path)},
        "--precision",
        "fp32",
    )
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip().split("fp32: ", 1)[1])
    assert path.parent == tmp_path / "onnx" and path.stat().st_size > 90_000_000


def test_the_export_command_names_a_missing_weights_file(tmp_path):
    result = run_export(
        {"ML_ENCODER_WEIGHTS": str(tmp_path / "none.pth"), "ML_MODEL_CACHE_DIR": str(tmp_path)}
    )
    assert result.returncode == 1
    assert f"ML_ENCODER_WEIGHTS={tmp_path / 'none.pth'}: file not found" in result.stderr


def test_calibration_uses_the_configured_photos(tmp_path):
    for i, colour in enumerate(["red", "blue", "green"]):
        buffer = io.BytesIO()
        Image.new("RGB", (40, 60), colour).save(buffer, "JPEG")
        (tmp_path / f"{i}.jpg").write_bytes(buffer.getvalue())
    (tmp_path / "notes.jpg").write_text("not a photo")
    images, source = calibration_images(MLSettings(calibration_dir=tmp_path, calibration_size=10))
    assert source == str(tmp_path) and len(images) == 3
    assert all(image.size == (40, 60) for image in images)


def test_calibration_falls_back_to_generated_images_and_refuses_a_missing_folder(tmp_path):
    images, source = calibration_images(MLSettings(calibration_size=5))
    assert source == "generated" and len(images) == 5
    assert (
        generated_calibration_images(2, seed=3)[0].tobytes()
        == generated_calibration_images(2, seed=3)[0].tobytes()
    )
    with pytest.raises(ModelLoadError, match="ML_CALIBRATION_DIR="):
        calibration_images(MLSettings(calibration_dir=tmp_path / "nope"))
