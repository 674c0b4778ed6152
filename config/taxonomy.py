"""The taxonomies in config/taxonomy/: garment categories and the 23 K-Fashion styles."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

TAXONOMY_DIR = Path(__file__).resolve().parent / "taxonomy"


@cache
def styles() -> tuple[str, ...]:
    return tuple(json.loads((TAXONOMY_DIR / "styles.json").read_text())["styles"])


@cache
def categories() -> tuple[str, ...]:
    return tuple(json.loads((TAXONOMY_DIR / "categories.json").read_text())["categories"])


@cache
def class_map(name: str) -> dict[str, str]:
    """Detector class name → garment category, for a named mapping (e.g. ``deepfashion2``)."""
    maps = json.loads((TAXONOMY_DIR / "categories.json").read_text())["class_maps"]
    return dict(maps[name])
