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


def top_styles(vector: list[float] | None, k: int = 3) -> list[dict[str, float | str]]:
    """The ``k`` strongest styles of a 23-number style vector, for the app."""
    if not vector:
        return []
    ranked = sorted(zip(styles(), vector, strict=True), key=lambda p: -p[1])
    return [{"style": name, "score": round(score, 4)} for name, score in ranked[:k]]
