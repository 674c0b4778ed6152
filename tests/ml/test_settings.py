"""ML settings from the environment."""

from __future__ import annotations

from pathlib import Path

from ml.capabilities import describe_models_dict
from ml.settings import DEFAULT_TAXONOMY_FILE, MLSettings


def test_defaults_need_no_weights_and_find_the_taxonomy():
    settings = MLSettings.from_env({})
    assert settings.garment_weights is None and settings.encoder == "descriptor"
    assert settings.runtime == "torch" and settings.precision == "fp32"
    assert settings.taxonomy_file == DEFAULT_TAXONOMY_FILE and DEFAULT_TAXONOMY_FILE.is_file()
    assert settings.validate() == []


def test_weight_sources_keep_s3_urls_and_expand_local_paths():
    settings = MLSettings.from_env(
        {
            "ML_GARMENT_WEIGHTS": "s3://models/yolo/garments.pt",
            "ML_PERSON_WEIGHTS": "~/models/person.pt",
            "ML_ENCODER": "resnet50",
            "ML_ENCODER_WEIGHTS": "/models/r50.pth",
            "ML_RUNTIME": "onnx",
            "ML_PRECISION": "int8",
            "ML_ENCODER_PROJECTION": "/index/pca.npz",
            "ML_GARMENT_CLASS_MAP": "clothing-small",
            "ML_DETECT_IMAGE_SIZE": "512",
            "AWS_S3_ENDPOINT_URL": "http://minio:9000",
        }
    )
    assert settings.garment_weights == "s3://models/yolo/garments.pt"
    assert settings.person_weights == str(Path("~/models/person.pt").expanduser())
    assert settings.encoder_projection == Path("/index/pca.npz")
    assert settings.detect_image_size == 512
    assert settings.s3_endpoint_url == "http://minio:9000"
    assert settings.validate() == []


def test_validate_names_each_bad_variable():
    problems = MLSettings.from_env(
        {"ML_ENCODER": "resnet50", "ML_PRECISION": "int8", "ML_DEVICE": "tpu"}
    ).validate()
    assert "ML_PRECISION=int8 needs ML_RUNTIME=onnx" in problems
    assert "ML_DEVICE=tpu: expected auto, cpu or cuda" in problems
    assert any("needs ML_ENCODER_WEIGHTS" in p for p in problems)


def test_capabilities_name_real_models_and_defaults():
    described = describe_models_dict(
        MLSettings(garment_weights="/m/g.pt", person_weights="/m/p.pt", runtime="onnx")
    )
    assert described["detector"]["name"] == "yolo-two-stage"
    assert described["detector"]["source"] == "/m/p.pt, /m/g.pt"
    assert described["encoder"]["name"] == "descriptor (default)"
