"""Preprocessing: whole garments reach the network at its size with its constants."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from ml.preprocess import (
    IMAGENET_MEAN,
    RESNET50_IMAGENET,
    PreprocessSpec,
    crop,
    fit,
    load_spec_beside,
    to_batch,
)
from ml.types import Box


def test_pad_keeps_the_whole_tall_garment_centred_on_white():
    dress = Image.new("RGB", (100, 300), (200, 0, 0))
    square = fit(dress, RESNET50_IMAGENET)
    assert square.size == (224, 224)
    assert square.getpixel((112, 2)) == (200, 0, 0)  # the top of the dress is still there
    assert square.getpixel((112, 221)) == (200, 0, 0)
    assert square.getpixel((5, 112)) == (255, 255, 255)


def test_center_crop_fills_the_square():
    spec = PreprocessSpec(224, IMAGENET_MEAN, (0.229, 0.224, 0.225), resize="center_crop")
    square = fit(Image.new("RGB", (100, 300), (0, 0, 200)), spec)
    assert square.size == (224, 224) and square.getpixel((5, 112)) == (0, 0, 200)


def test_batches_are_normalised_nchw_float32():
    batch = to_batch([Image.new("RGB", (50, 50), (124, 116, 104))] * 2, RESNET50_IMAGENET)
    assert batch.shape == (2, 3, 224, 224) and batch.dtype == np.float32
    assert np.abs(batch[:, :, 100:120, 100:120]).max() < 0.01  # ImageNet's mean colour → 0


def test_crop_clips_to_the_image():
    image = Image.new("RGB", (100, 80))
    assert crop(image, Box(-10, 10, 50, 200)).size == (50, 70)
    assert crop(image, Box(200, 200, 300, 300)) is image


def test_constants_beside_the_weights_override_the_defaults(tmp_path):
    weights = tmp_path / "r50.pth"
    weights.write_bytes(b"x")
    assert load_spec_beside(weights, RESNET50_IMAGENET) == RESNET50_IMAGENET
    (tmp_path / "r50.pth.preprocess.json").write_text(
        json.dumps({"size": 256, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]})
    )
    spec = load_spec_beside(weights, RESNET50_IMAGENET)
    assert (spec.size, spec.mean, spec.resize) == (256, (0.5, 0.5, 0.5), "pad")
    assert spec.fingerprint != RESNET50_IMAGENET.fingerprint
