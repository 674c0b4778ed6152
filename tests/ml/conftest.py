"""Fixtures for the ml library's tests: tiny models and images made here, no downloads."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.ml.models import DEEPFASHION2_NAMES, save_yolo

# Before anything imports ultralytics: no online checks or telemetry from the tests.
os.environ["YOLO_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def garment_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_yolo(tmp_path_factory.mktemp("yolo") / "garments.pt", DEEPFASHION2_NAMES)


@pytest.fixture(scope="session")
def person_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_yolo(tmp_path_factory.mktemp("yolo") / "people.pt", ["person", "car", "dog"])


@pytest.fixture(scope="session")
def resnet_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """torchvision's resnet50 state dict (random init, classifier head included)."""
    import torch
    from torchvision.models import resnet50

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("resnet") / "resnet50.pth"
    torch.save(resnet50(weights=None).state_dict(), path)
    return path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any attempt to reach the network (or ultralytics' downloader) is recorded and fails."""
    attempts: list[str] = []
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost"):
            attempts.append(f"connect {address}")
            raise OSError("network disabled in this test")
        real_connect(self, address)  # type: ignore[arg-type]

    def refuse_download(*args: object, **kwargs: object) -> None:
        attempts.append(f"download {args} {kwargs}")
        raise AssertionError("ultralytics tried to download")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    import ultralytics.utils.downloads as downloads

    monkeypatch.setattr(downloads, "safe_download", refuse_download)
    monkeypatch.setattr(downloads, "get_github_assets", refuse_download)
    return attempts
