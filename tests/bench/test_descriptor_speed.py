"""Images per second of the default encoder (target: 100 on the 2-core CPU).

Encodes 256 garment photos in batches of 32: the clothing-small photos (about 400 x 534)
where present (``CLOTHING_SMALL_DIR``), else synthetic product shots drawn at 512 px.
Decoding is not timed (the intake module does it once per upload).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PIL import Image

from ml.descriptor import DescriptorEncoder
from ml.evaluation import HogColourBaselineEncoder, clothing_small_photos, load_rgb

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = Path(os.environ.get("CLOTHING_SMALL_DIR", ROOT.parent / "shared/data/clothing-small"))
N_IMAGES = 256
BATCH = 32
TARGET = 100.0
#: Fails only on a real regression: the shared machine is noisy, the target is reported.
FLOOR = 50.0


def _images() -> tuple[list[Image.Image], str]:
    if (PHOTOS / "train").is_dir():
        photos = clothing_small_photos(PHOTOS, limit_per_class=N_IMAGES // 8)[:N_IMAGES]
        return [load_rgb(photo.path) for photo in photos], f"{len(photos)} clothing-small photos"
    from ml.synthetic import render_product_shot, sample_catalog

    specs = sample_catalog(N_IMAGES, seed=3)
    return [render_product_shot(s, size=512).image for s in specs], "synthetic 512 px shots"


def _rate(
    encoder: DescriptorEncoder | HogColourBaselineEncoder, images: list[Image.Image]
) -> float:
    encoder.encode_array(images[:BATCH])  # warm-up
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        for start in range(0, len(images), BATCH):
            encoder.encode_array(images[start : start + BATCH])
        best = max(best, len(images) / (time.perf_counter() - started))
    return best


def test_descriptor_encodes_at_least_100_images_per_second(
    capsys: pytest.CaptureFixture[str],
) -> None:
    images, what = _images()
    ours = _rate(DescriptorEncoder(), images)
    baseline = _rate(HogColourBaselineEncoder(), images)
    with capsys.disabled():
        print(
            f"\n{what}, batch {BATCH}, best of 3, one process: descriptor {ours:.0f} images/s "
            f"(target {TARGET:.0f}), HOG + colour baseline {baseline:.0f} images/s; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
    assert ours >= FLOOR
