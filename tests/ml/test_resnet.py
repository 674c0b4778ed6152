"""The ResNet50 encoder: a configured state dict loads through real torchvision code and
gives unit-norm float32 vectors, the same alone or in a batch, versioned by its weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from ml.base import ModelLoadError
from ml.resnet import FEATURE_DIM, Projection, ResNetEncoder, fit_pca
from ml.settings import MLSettings


def garment(colour: tuple[int, int, int], size: tuple[int, int] = (90, 120), stripes: int = 0):
    image = Image.new("RGB", size, (245, 245, 245))
    image.paste(colour, (15, 15, size[0] - 15, size[1] - 10))
    for i in range(stripes):
        y = 20 + i * 12
        image.paste((20, 20, 20), (15, y, size[0] - 15, y + 4))
    return image


IMAGES = [
    garment((200, 30, 30)),
    garment((30, 30, 200), (140, 100)),
    garment((30, 160, 60), stripes=5),
    garment((240, 220, 40), (60, 160)),
]


def settings_for(tmp_path: Path, weights: Path | str, **values: Any) -> MLSettings:
    return MLSettings(
        encoder="resnet50",
        encoder_weights=str(weights),
        model_cache_dir=tmp_path / "cache",
        **values,
    )


@pytest.fixture(scope="module")
def torch_vectors(resnet_weights, tmp_path_factory) -> tuple[ResNetEncoder, np.ndarray]:
    encoder = ResNetEncoder(settings_for(tmp_path_factory.mktemp("enc"), resnet_weights))
    return encoder, encoder.encode_array(IMAGES)


def test_state_dict_loads_and_gives_unit_norm_float32_vectors(torch_vectors):
    encoder, vectors = torch_vectors
    assert encoder.loaded and not encoder.is_default
    assert vectors.dtype == np.float32
    assert vectors.shape == (4, FEATURE_DIM) == (4, encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()
    assert not np.allclose(vectors[0], vectors[2], atol=1e-4)  # different garments differ


def test_a_batch_gives_the_same_vectors_as_one_by_one(torch_vectors):
    encoder, vectors = torch_vectors
    singles = np.concatenate([encoder.encode_array([image]) for image in IMAGES])
    np.testing.assert_allclose(singles, vectors, atol=2e-4)


def test_embeddings_carry_the_encoder_name_and_version(torch_vectors):
    encoder, vectors = torch_vectors
    [embedding] = encoder.encode(IMAGES[:1])
    assert embedding.encoder == "resnet50"
    assert embedding.version == encoder.version
    np.testing.assert_allclose(embedding.to_numpy(), vectors[0], atol=2e-4)


def test_the_version_changes_when_the_weights_change(resnet_weights, tmp_path, torch_vectors):
    encoder, _ = torch_vectors
    other = tmp_path / "other.pth"
    state = torch.load(resnet_weights, weights_only=True)
    state["conv1.weight"] = state["conv1.weight"] * 1.01
    torch.save(state, other)
    retrained = ResNetEncoder(settings_for(tmp_path, other))
    retrained.load()
    assert retrained.version != encoder.version
    assert retrained.version.split("-")[1] == encoder.version.split("-")[1]  # same preprocessing


def test_wrapped_checkpoints_with_prefixes_and_no_head_load(
    resnet_weights, tmp_path, torch_vectors
):
    _, vectors = torch_vectors
    state = torch.load(resnet_weights, weights_only=True)
    wrapped = {
        "state_dict": {f"module.{k}": v for k, v in state.items() if not k.startswith("fc.")}
    }
    path = tmp_path / "finetuned.ckpt"
    torch.save(wrapped, path)
    encoder = ResNetEncoder(settings_for(tmp_path, path))
    np.testing.assert_allclose(encoder.encode_array(IMAGES[:1]), vectors[:1], atol=2e-4)


def test_missing_weights_are_a_named_error(tmp_path):
    encoder = ResNetEncoder(settings_for(tmp_path, "/models/resnet50-fashion.pth"))
    with pytest.raises(
        ModelLoadError, match=r"ML_ENCODER_WEIGHTS=/models/resnet50-fashion\.pth: file not found"
    ):
        encoder.encode_array(IMAGES[:1])


def test_corrupt_weights_are_a_named_error(tmp_path):
    corrupt = tmp_path / "resnet50.pth"
    corrupt.write_bytes(b"\x80\x02garbage that is not a torch checkpoint" * 20)
    with pytest.raises(ModelLoadError, match=rf"ML_ENCODER_WEIGHTS={corrupt}: not a readable"):
        ResNetEncoder(settings_for(tmp_path, corrupt)).load()


def test_weights_of_another_network_are_refused(tmp_path):
    from torchvision.models import resnet18

    path = tmp_path / "resnet18.pth"
    torch.save(resnet18(weights=None).state_dict(), path)
    with pytest.raises(ModelLoadError, match="not ResNet50 weights"):
        ResNetEncoder(settings_for(tmp_path, path)).load()


def test_int8_on_the_torch_runtime_is_refused(tmp_path, resnet_weights):
    encoder = ResNetEncoder(settings_for(tmp_path, resnet_weights, precision="int8"))
    with pytest.raises(ModelLoadError, match="ML_PRECISION=int8 needs ML_RUNTIME=onnx"):
        encoder.load()


# --- PCA ---


def test_pca_keeps_the_main_directions_and_round_trips_through_npz(tmp_path):
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(64, 64)))[0][:, :4]  # data lives in 4 dimensions
    vectors = (rng.normal(size=(500, 4)) * [5, 4, 3, 2]) @ basis.T + 0.01 * rng.normal(
        size=(500, 64)
    )
    projection = fit_pca(vectors.astype(np.float32), 4)
    assert projection.dim == 4 and projection.input_dim == 64
    assert projection.explained_variance_ratio > 0.99
    path = tmp_path / "pca.npz"
    projection.save(path)
    loaded = Projection.load(path)
    np.testing.assert_allclose(
        loaded.apply(vectors[:3].astype(np.float32)),
        projection.apply(vectors[:3].astype(np.float32)),
        atol=1e-5,
    )
    assert loaded.fingerprint == projection.fingerprint


def test_pca_needs_more_vectors_than_dimensions():
    with pytest.raises(ValueError, match="more than 8 vectors"):
        fit_pca(np.zeros((8, 16), dtype=np.float32), 8)


def test_a_configured_projection_shrinks_the_vectors_and_changes_the_version(
    tmp_path, resnet_weights, torch_vectors
):
    encoder, vectors = torch_vectors
    rng = np.random.default_rng(1)
    catalog = np.concatenate([vectors, rng.normal(size=(40, FEATURE_DIM)).astype(np.float32)])
    path = tmp_path / "pca.npz"
    fit_pca(catalog, 16).save(path)
    projected = ResNetEncoder(settings_for(tmp_path, resnet_weights, encoder_projection=path))
    out = projected.encode_array(IMAGES[:2])
    assert out.shape == (2, 16) and projected.dim == 16
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert projected.version.startswith(encoder.version + "-pca16.")


# --- ONNX Runtime ---


@pytest.mark.slow
def test_onnx_fp32_matches_torch(tmp_path, resnet_weights, torch_vectors):
    encoder, vectors = torch_vectors
    onnx = ResNetEncoder(settings_for(tmp_path, resnet_weights, runtime="onnx"))
    out = onnx.encode_array(IMAGES)
    assert onnx.version == encoder.version  # same numbers, same index
    assert (out * vectors).sum(axis=1).min() > 0.9999
    assert len(list((tmp_path / "cache" / "onnx").glob("resnet50-*-fp32.onnx"))) == 1


@pytest.mark.slow
def test_onnx_int8_is_close_to_fp32_and_versioned_apart(tmp_path, resnet_weights, torch_vectors):
    encoder, vectors = torch_vectors
    int8 = ResNetEncoder(
        settings_for(tmp_path, resnet_weights, runtime="onnx", precision="int8", calibration_size=8)
    )
    out = int8.encode_array(IMAGES)
    assert int8.version == encoder.version + "-int8"
    assert out.dtype == np.float32
    assert (out * vectors).sum(axis=1).min() > 0.98
