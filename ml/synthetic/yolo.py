"""A YOLO-format detection dataset of synthetic scenes (for detector fine-tuning tests).

Layout (what ultralytics reads)::

    root/data.yaml
    root/images/{train,val}/000000.jpg
    root/labels/{train,val}/000000.txt   # one "class cx cy w h" line per box, in [0, 1]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.synthetic.render import RenderedImage, WornOptions, render_product_shot, render_worn
from ml.synthetic.spec import derive_seed, sample_spec
from ml.types import CATEGORIES, Box

PERSON = "person"


@dataclass(frozen=True)
class YoloDataset:
    root: Path
    data_yaml: Path
    names: tuple[str, ...]
    counts: dict[str, int]  # images per split


def yolo_label_line(class_id: int, box: Box, width: int, height: int) -> str:
    """``class cx cy w h`` normalised to the image size, clipped to [0, 1]."""
    b = box.clip(width, height)
    cx = (b.x1 + b.x2) / 2 / width
    cy = (b.y1 + b.y2) / 2 / height
    return f"{class_id} {cx:.6f} {cy:.6f} {b.width / width:.6f} {b.height / height:.6f}"


def _labels(rendered: RenderedImage, names: tuple[str, ...]) -> list[str]:
    width, height = rendered.image.size
    lines = [
        yolo_label_line(names.index(g.category), g.box, width, height) for g in rendered.garments
    ]
    if PERSON in names and rendered.person is not None:
        lines.append(yolo_label_line(names.index(PERSON), rendered.person, width, height))
    return lines


def write_yolo_dataset(
    root: Path,
    *,
    n_train: int,
    n_val: int,
    seed: int = 0,
    size: int = 256,
    product_fraction: float = 0.2,
    include_person: bool = False,
    styles: Sequence[str] | None = None,
    options: WornOptions | None = None,
) -> YoloDataset:
    """Renders ``n_train`` + ``n_val`` images with their labels and writes ``data.yaml``.

    Classes are the four garment categories in taxonomy order (plus ``person`` last when
    ``include_person``). About ``product_fraction`` of the images are product shots (one
    garment, no person): the garment model also runs on those.
    """
    names: tuple[str, ...] = (*CATEGORIES, PERSON) if include_person else CATEGORIES
    rng = np.random.default_rng([seed, 505])
    counts = {"train": n_train, "val": n_val}
    for split, count in counts.items():
        images = root / "images" / split
        labels = root / "labels" / split
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            item_seed = derive_seed(seed, 0 if split == "train" else 1, i)
            spec = sample_spec(item_seed, category=CATEGORIES[i % 4], styles=styles)
            if rng.random() < product_fraction:
                rendered = render_product_shot(spec, size=size)
            else:
                rendered = render_worn(spec, size=size, scene=i, options=options)
            stem = f"{i:06d}"
            rendered.image.save(images / f"{stem}.jpg", quality=95)
            (labels / f"{stem}.txt").write_text("\n".join(_labels(rendered, names)) + "\n")
    names_yaml = "\n".join(f"  {i}: {json.dumps(name)}" for i, name in enumerate(names))
    data_yaml = root / "data.yaml"
    data_yaml.write_text(
        f"path: {json.dumps(str(root.resolve()))}\n"
        "train: images/train\n"
        "val: images/val\n"
        f"nc: {len(names)}\n"
        f"names:\n{names_yaml}\n"
    )
    return YoloDataset(root, data_yaml, names, counts)
