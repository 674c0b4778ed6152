"""The registry: the configured model per role, built once per process, loaded lazily."""

from __future__ import annotations

import importlib.util
import sys
import threading

import pytest

from ml.base import ModelLoadError
from ml.detection import FullImageDetector, YoloDetector
from ml.registry import ModelRegistry, get_registry, reset_registry
from ml.resnet import ResNetEncoder
from ml.settings import MLSettings


@pytest.fixture(autouse=True)
def fresh_registry():
    reset_registry()
    yield
    reset_registry()


def test_no_weights_serve_the_full_image_default_detector():
    registry = ModelRegistry(MLSettings())
    detector = registry.detector()
    assert isinstance(detector, FullImageDetector)
    assert detector.loaded and detector.is_default
    assert registry.detector() is detector


def test_garment_weights_select_the_yolo_detector_without_loading_it(tmp_path):
    registry = ModelRegistry(MLSettings(garment_weights=str(tmp_path / "g.pt")))
    detector = registry.detector(load=False)
    assert isinstance(detector, YoloDetector) and not detector.loaded
    with pytest.raises(ModelLoadError, match=r"ML_GARMENT_WEIGHTS=.*g\.pt: file not found"):
        registry.detector()


def test_resnet50_is_built_once_and_loaded_once_across_threads(
    tmp_path, resnet_weights, monkeypatch
):
    loads = []
    real_load = ResNetEncoder._load

    def counting_load(self):
        loads.append(self)
        real_load(self)

    monkeypatch.setattr(ResNetEncoder, "_load", counting_load)
    registry = ModelRegistry(
        MLSettings(
            encoder="resnet50", encoder_weights=str(resnet_weights), model_cache_dir=tmp_path
        )
    )
    got = []
    threads = [threading.Thread(target=lambda: got.append(registry.encoder())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(e) for e in got}) == 1
    assert isinstance(got[0], ResNetEncoder) and got[0].loaded
    assert len(loads) == 1


def test_describe_says_what_serves_without_loading(tmp_path, resnet_weights):
    registry = ModelRegistry(
        MLSettings(
            encoder="resnet50", encoder_weights=str(resnet_weights), model_cache_dir=tmp_path
        )
    )
    described = registry.describe_dict()
    assert described["detector"]["name"] == "full-image"
    assert described["detector"]["is_default"] is True
    assert described["encoder"] == {
        "role": "encoder",
        "name": "resnet50",
        "version": None,
        "is_default": False,
        "source": str(resnet_weights),
        "loaded": False,
        "runtime": "torch-fp32",
    }
    registry.encoder()
    loaded = registry.describe_dict()["encoder"]
    assert loaded["loaded"] is True and loaded["version"] == registry.encoder().version


def test_an_unknown_encoder_name_is_a_named_error():
    with pytest.raises(ModelLoadError, match="ML_ENCODER=clip"):
        ModelRegistry(MLSettings(encoder="clip")).encoder()


def test_the_descriptor_default_is_imported_only_when_asked_for(monkeypatch):
    monkeypatch.delitem(sys.modules, "ml.descriptor", raising=False)
    registry = ModelRegistry(MLSettings())
    registry.detector()
    registry.describe  # noqa: B018 - building the registry and the detector imports nothing else
    assert "ml.descriptor" not in sys.modules
    if importlib.util.find_spec("ml.descriptor") is None:
        pytest.skip("ml.descriptor (the default encoder) is not on this branch yet")
    encoder = registry.encoder()
    assert encoder.name == "descriptor" and encoder.is_default


def test_the_process_registry_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ML_GARMENT_WEIGHTS", str(tmp_path / "g.pt"))
    monkeypatch.setenv("ML_MODEL_CACHE_DIR", str(tmp_path))
    registry = get_registry()
    assert get_registry() is registry
    assert registry.settings.garment_weights == str(tmp_path / "g.pt")
    reset_registry()
    monkeypatch.delenv("ML_GARMENT_WEIGHTS")
    assert get_registry() is not registry
    assert get_registry().settings.garment_weights is None


def test_invalid_settings_stop_the_process_registry_naming_the_variables(monkeypatch):
    monkeypatch.setenv("ML_RUNTIME", "tensorrt")
    monkeypatch.setenv("ML_ENCODER", "resnet50")
    monkeypatch.delenv("ML_ENCODER_WEIGHTS", raising=False)
    with pytest.raises(ModelLoadError) as caught:
        get_registry()
    assert "ML_RUNTIME=tensorrt" in str(caught.value)
    assert "needs ML_ENCODER_WEIGHTS" in str(caught.value)
