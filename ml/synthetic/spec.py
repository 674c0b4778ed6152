"""What a synthetic garment is: a :class:`GarmentSpec`, and how specs are sampled from styles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ml.synthetic.shapes import SHAPE_CATEGORY, SHAPES
from ml.synthetic.styles import PALETTES, PATTERNS, RGB, load_styles, profile_for
from ml.types import CATEGORIES, GarmentCategory


@dataclass(frozen=True)
class GarmentSpec:
    """Everything that fixes a garment's look: one catalog product.

    ``colours``: main colour first, then the second and accent colours (RGB 0..255);
    ``seed`` fixes the print's scale, angle and placement. ``styles``: its style labels
    (the first is the one it was sampled from); they do not change the pixels.
    """

    category: GarmentCategory
    shape: str
    colours: tuple[RGB, ...]
    pattern: str
    styles: tuple[str, ...]
    seed: int

    def __post_init__(self) -> None:
        if SHAPE_CATEGORY.get(self.shape) != self.category:
            raise ValueError(
                f"shape {self.shape!r} is not a {self.category!r}; "
                f"{self.category!r} shapes: {SHAPES.get(self.category)}"
            )
        if self.pattern not in PATTERNS:
            raise ValueError(f"unknown pattern {self.pattern!r}; known: {PATTERNS}")
        if not self.colours:
            raise ValueError("a garment needs at least one colour")


def derive_seed(*parts: int) -> int:
    """A stable 63-bit seed from integers (a product seed and a view number, say)."""
    return int(np.random.SeedSequence([abs(p) for p in parts]).generate_state(2, np.uint64)[0] >> 1)


def _weighted(rng: np.random.Generator, items: Sequence[str], weights: Sequence[float]) -> str:
    w = np.asarray(weights, dtype=np.float64)
    return items[int(rng.choice(len(items), p=w / w.sum()))]


def _jitter(rng: np.random.Generator, colour: RGB, amount: int) -> RGB:
    values = np.clip(np.asarray(colour) + rng.integers(-amount, amount + 1, 3), 0, 255)
    return (int(values[0]), int(values[1]), int(values[2]))


def sample_spec(
    seed: int,
    *,
    category: GarmentCategory | None = None,
    style: str | None = None,
    styles: Sequence[str] | None = None,
) -> GarmentSpec:
    """A garment drawn from a style's distribution over palettes, patterns and shapes.

    Args:
        seed: fixes everything; the same arguments give the same spec.
        category: one of the four, or drawn uniformly.
        style: the style to sample from, or drawn uniformly from ``styles``.
        styles: the style names (default: ``config/taxonomy/styles.json``).
    """
    names = tuple(styles) if styles is not None else load_styles()
    rng = np.random.default_rng([seed, 7])
    style = style if style is not None else names[int(rng.integers(len(names)))]
    category = category if category is not None else CATEGORIES[int(rng.integers(4))]
    profile = profile_for(style)

    shapes = SHAPES[category]
    shape = _weighted(rng, shapes, [4.0 if s in profile.shapes else 1.0 for s in shapes])
    # Mostly the style's own palettes and patterns, sometimes anything: styles overlap.
    if rng.random() < 0.1:
        palette = sorted(PALETTES)[int(rng.integers(len(PALETTES)))]
    else:
        palette = _weighted(rng, [p for p, _ in profile.palettes], [w for _, w in profile.palettes])
    if rng.random() < 0.1:
        pattern = PATTERNS[int(rng.integers(len(PATTERNS)))]
    else:
        pattern = _weighted(rng, [p for p, _ in profile.patterns], [w for _, w in profile.patterns])
    base = PALETTES[palette]
    picks = rng.choice(len(base), size=3, replace=False)
    colours = tuple(_jitter(rng, base[int(i)], 14) for i in picks)

    # A second label for the style that likes this palette and pattern most, if any does.
    best, best_score = None, 0.0
    for other in names:
        if other == style:
            continue
        other_profile = profile_for(other)
        score = other_profile.palette_weight(palette) * other_profile.pattern_weight(pattern)
        if score > best_score:
            best, best_score = other, score
    labels = (style, best) if best is not None and best_score >= 6.0 else (style,)
    return GarmentSpec(category, shape, colours, pattern, labels, seed)


def sample_catalog(
    n: int,
    *,
    seed: int = 0,
    styles: Sequence[str] | None = None,
    categories: Sequence[GarmentCategory] = CATEGORIES,
) -> list[GarmentSpec]:
    """``n`` products, categories taken in turn, styles drawn uniformly; reproducible."""
    return [
        sample_spec(derive_seed(seed, i), category=categories[i % len(categories)], styles=styles)
        for i in range(n)
    ]
