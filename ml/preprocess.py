"""Pure preprocessing: crops, resizing and normalisation, with the constants of each network.

The constants belong to the weights: a torchvision ImageNet ResNet50 expects 224x224 inputs
normalised by the ImageNet mean and standard deviation. A fine-tuned checkpoint trained
with other constants says so in a ``<weights>.preprocess.json`` beside it
(``{"size": 224, "mean": [...], "std": [...], "resize": "pad"}``), read by
:func:`load_spec_beside`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

from ml.types import Box

ResizeMode = Literal["pad", "center_crop"]


@dataclass(frozen=True)
class PreprocessSpec:
    """How a network wants its input: side, channel mean/std (0..1 scale), resize mode.

    ``pad`` keeps the whole garment (letterboxed on ``fill``); ``center_crop`` is
    torchvision's classic resize-256-crop-224 and can cut the hem off a long dress.
    """

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize: ResizeMode = "pad"
    fill: tuple[int, int, int] = (255, 255, 255)

    @property
    def fingerprint(self) -> str:
        """Short stable id, part of an encoder's version (other constants, other vectors)."""
        text = json.dumps(
            [self.size, self.mean, self.std, self.resize, self.fill], separators=(",", ":")
        )
        return hashlib.sha256(text.encode()).hexdigest()[:6]


#: torchvision's ImageNet weights (IMAGENET1K_V1/V2) and most fashion fine-tunes of them.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RESNET50_IMAGENET = PreprocessSpec(size=224, mean=IMAGENET_MEAN, std=IMAGENET_STD)


def load_spec_beside(weights: Path, default: PreprocessSpec) -> PreprocessSpec:
    """The spec in ``<weights>.preprocess.json`` when there is one, else ``default``."""
    sidecar = weights.with_name(weights.name + ".preprocess.json")
    if not sidecar.is_file():
        return default
    raw = json.loads(sidecar.read_text())
    mean = tuple(float(v) for v in raw.get("mean", default.mean))
    std = tuple(float(v) for v in raw.get("std", default.std))
    fill = tuple(int(v) for v in raw.get("fill", default.fill))
    if len(mean) != 3 or len(std) != 3 or len(fill) != 3:
        raise ValueError(f"{sidecar}: mean, std and fill need three values each")
    resize = raw.get("resize", default.resize)
    if resize not in ("pad", "center_crop"):
        raise ValueError(f"{sidecar}: resize must be pad or center_crop")
    return PreprocessSpec(
        size=int(raw.get("size", default.size)),
        mean=(mean[0], mean[1], mean[2]),
        std=(std[0], std[1], std[2]),
        resize=resize,
        fill=(fill[0], fill[1], fill[2]),
    )


def crop(image: Image.Image, box: Box) -> Image.Image:
    """The region ``box`` (image pixels, clipped to the image); the whole image if empty."""
    clipped = box.clip(image.width, image.height)
    x1, y1, x2, y2 = clipped.as_int_tuple()
    if x2 - x1 < 1 or y2 - y1 < 1:
        return image
    return image.crop((x1, y1, x2, y2))


def fit(image: Image.Image, spec: PreprocessSpec) -> Image.Image:
    """An RGB ``spec.size`` square, by letterboxing or by resize + centre crop."""
    image = image.convert("RGB") if image.mode != "RGB" else image
    size = spec.size
    width, height = image.size
    if spec.resize == "center_crop":
        short = round(size * 256 / 224)
        scale = short / min(width, height)
        resized = image.resize(
            (max(size, round(width * scale)), max(size, round(height * scale))),
            Image.Resampling.BILINEAR,
        )
        left = (resized.width - size) // 2
        top = (resized.height - size) // 2
        return resized.crop((left, top, left + size, top + size))
    scale = size / max(width, height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = image.resize((new_w, new_h), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (size, size), spec.fill)
    canvas.paste(resized, ((size - new_w) // 2, (size - new_h) // 2))
    return canvas


def normalise(pixels: npt.NDArray[np.uint8], spec: PreprocessSpec) -> npt.NDArray[np.float32]:
    """HWC uint8 → CHW float32, scaled to 0..1 then standardised per channel."""
    mean = np.asarray(spec.mean, dtype=np.float32).reshape(3, 1, 1)
    std = np.asarray(spec.std, dtype=np.float32).reshape(3, 1, 1)
    chw = pixels.astype(np.float32).transpose(2, 0, 1) / np.float32(255.0)
    out: npt.NDArray[np.float32] = ((chw - mean) / std).astype(np.float32, copy=False)
    return out


def to_batch(images: Sequence[Image.Image], spec: PreprocessSpec) -> npt.NDArray[np.float32]:
    """(n, 3, size, size) float32, ready for the network."""
    batch = np.empty((len(images), 3, spec.size, spec.size), dtype=np.float32)
    for i, image in enumerate(images):
        batch[i] = normalise(np.asarray(fit(image, spec), dtype=np.uint8), spec)
    return batch
