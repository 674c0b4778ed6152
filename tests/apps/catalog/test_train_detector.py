"""manage.py train_detector: offline YOLO fine-tuning whose weights the worker can serve."""

from __future__ import annotations

import json
import os
import socket
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

os.environ["YOLO_OFFLINE"] = "1"  # before ultralytics is imported by anything here


@pytest.fixture
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Connections beyond this machine are recorded and refused."""
    attempts: list[str] = []
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost"):
            attempts.append(str(address))
            raise OSError("network disabled in this test")
        real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return attempts


@pytest.fixture
def registry_from_env(monkeypatch: pytest.MonkeyPatch):
    from ml.registry import reset_registry

    reset_registry()
    yield monkeypatch
    reset_registry()


@pytest.mark.slow
def test_one_short_epoch_gives_weights_the_detector_serves(
    tmp_path: Path, network_attempts, registry_from_env
):
    from ml.synthetic import render_worn, sample_spec, write_yolo_dataset

    dataset = write_yolo_dataset(tmp_path / "data", n_train=6, n_val=2, size=128, seed=3)
    out = tmp_path / "models" / "garments.pt"
    stdout = StringIO()

    call_command(
        "train_detector", "--data", str(dataset.data_yaml), "--model", "yolov8n.yaml",
        "--epochs", "1", "--imgsz", "64", "--batch", "4", "--device", "cpu",
        "--out", str(out), stdout=stdout, stderr=StringIO(),
    )  # fmt: skip

    assert out.is_file()
    assert json.loads(out.with_name("garments.pt.classes.json").read_text()) == {
        "top": "top",
        "bottom": "bottom",
        "outer": "outer",
        "dress": "dress",
    }
    assert f"ML_GARMENT_WEIGHTS={out.resolve()}" in stdout.getvalue()
    assert network_attempts == []

    registry_from_env.setenv("ML_GARMENT_WEIGHTS", str(out))
    from ml.registry import get_registry

    detector = get_registry().detector()
    assert detector.name == "yolo" and detector.loaded
    scene = render_worn(sample_spec(5, category="top"), size=128, scene=1).image
    found = detector.detect(scene)
    assert all(d.category in ("top", "bottom", "outer", "dress") for d in found)


def test_a_dataset_that_is_not_there_says_how_to_make_one(tmp_path: Path):
    data = tmp_path / "garments.yaml"
    data.write_text("path: ./nowhere\ntrain: images/train\nval: images/val\nnames:\n  0: top\n")
    with pytest.raises(CommandError, match=r"do not exist.*--synthetic N"):
        call_command(
            "train_detector", "--data", str(data), "--out", str(tmp_path / "g.pt"),
            "--epochs", "1", stdout=StringIO(), stderr=StringIO(),
        )  # fmt: skip


def test_a_start_point_missing_from_disk_is_refused_not_downloaded(tmp_path: Path):
    from ml.synthetic import write_yolo_dataset

    dataset = write_yolo_dataset(tmp_path / "data", n_train=1, n_val=1, size=64)
    with pytest.raises(CommandError, match=r"--model yolov8n\.pt: not found on disk"):
        call_command(
            "train_detector", "--data", str(dataset.data_yaml), "--model", "yolov8n.pt",
            "--out", str(tmp_path / "g.pt"), stdout=StringIO(), stderr=StringIO(),
        )  # fmt: skip


def test_classes_no_map_knows_are_refused(tmp_path: Path):
    root = tmp_path / "data"
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        Image.new("RGB", (32, 32)).save(root / "images" / split / "a.jpg")
    data = tmp_path / "d.yaml"
    data.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames: [hat, shoes]\n")
    with pytest.raises(CommandError, match="none of its classes"):
        call_command(
            "train_detector", "--data", str(data), "--model", "yolov8n.yaml",
            "--out", str(tmp_path / "g.pt"), stdout=StringIO(), stderr=StringIO(),
        )  # fmt: skip
