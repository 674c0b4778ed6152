"""Garment outlines in body coordinates.

Body coordinates: a standing figure 1.0 unit tall, x = 0 on its centre line, y = 0 at the
top of the head and growing downwards; the arms hang in a slight A pose. A garment is a few
polygons (filled together) plus details (seams, plackets, buttons). The same outline serves
the product shot (scaled to fill the frame) and the worn scene (placed on the figure).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ml.types import GarmentCategory

Point = tuple[float, float]
Polygon = tuple[Point, ...]

SHAPES: dict[GarmentCategory, tuple[str, ...]] = {
    "top": ("tshirt", "longsleeve", "tank", "shirt", "crop"),
    "bottom": ("trousers", "wide_trousers", "shorts", "skirt", "mini_skirt"),
    "outer": ("jacket", "coat", "blazer"),
    "dress": ("sheath", "aline", "maxi", "slip"),
}
SHAPE_CATEGORY: dict[str, GarmentCategory] = {
    shape: category for category, shapes in SHAPES.items() for shape in shapes
}

# The figure's right arm: from the shoulder joint down and outwards.
SHOULDER: Point = (0.11, 0.17)
ARM_DIR: Point = (0.249, 0.968)
ARM_NORMAL: Point = (0.968, -0.249)
ARM_LENGTH = 0.36


@dataclass(frozen=True)
class Detail:
    """A line (``points`` of a polyline) or buttons (``points`` are their centres).

    ``colour`` is ``seam`` (a darker shade of the main colour) or ``accent``.
    """

    kind: str  # "line" | "buttons"
    points: tuple[Point, ...]
    colour: str = "seam"
    width: float = 0.004


@dataclass(frozen=True)
class Geometry:
    polygons: tuple[Polygon, ...]
    details: tuple[Detail, ...]

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        xs = [p[0] for poly in self.polygons for p in poly]
        ys = [p[1] for poly in self.polygons for p in poly]
        return min(xs), min(ys), max(xs), max(ys)


def _mirror(poly: Polygon) -> Polygon:
    return tuple((-x, y) for x, y in poly)


def _both(poly: Polygon) -> tuple[Polygon, Polygon]:
    return poly, _mirror(poly)


def _sleeve(length: float, w0: float, w1: float) -> tuple[Polygon, Polygon]:
    px, py = SHOULDER
    dx, dy = ARM_DIR
    nx, ny = ARM_NORMAL
    ex, ey = px + dx * length, py + dy * length
    right: Polygon = (
        (0.10, 0.155),
        (px + nx * w0 / 2, py + ny * w0 / 2),
        (ex + nx * w1 / 2, ey + ny * w1 / 2),
        (ex - nx * w1 / 2, ey - ny * w1 / 2),
        (0.085, 0.26),
    )
    return _both(right)


def _cuffs(length: float, w1: float) -> tuple[Detail, ...]:
    px, py = SHOULDER
    dx, dy = ARM_DIR
    nx, ny = ARM_NORMAL
    t = length - 0.02
    cx, cy = px + dx * t, py + dy * t
    a = (cx + nx * w1 / 2, cy + ny * w1 / 2)
    b = (cx - nx * w1 / 2, cy - ny * w1 / 2)
    return (Detail("line", (a, b)), Detail("line", ((-a[0], a[1]), (-b[0], b[1]))))


def _torso(
    *, shoulder: float, hem: float, hem_half: float, neck_half: float, neck_depth: float
) -> Polygon:
    return (
        (-neck_half, 0.152),
        (0.0, 0.152 + neck_depth),
        (neck_half, 0.152),
        (shoulder, 0.165),
        (0.10, 0.26),
        (0.09, 0.38),
        (hem_half, hem),
        (-hem_half, hem),
        (-0.09, 0.38),
        (-0.10, 0.26),
        (-shoulder, 0.165),
    )


def _strapped(*, hem: float, hem_half: float, waist: float = 0.088) -> Polygon:
    return (
        (-0.05, 0.152),
        (-0.032, 0.152),
        (0.0, 0.225),
        (0.032, 0.152),
        (0.05, 0.152),
        (0.095, 0.245),
        (waist, 0.40),
        (hem_half, hem),
        (-hem_half, hem),
        (-waist, 0.40),
        (-0.095, 0.245),
    )


def _hem(y: float, half: float) -> Detail:
    return Detail("line", ((-half, y), (half, y)))


def _buttons(x: float, ys: tuple[float, ...]) -> Detail:
    return Detail("buttons", tuple((x, y) for y in ys), colour="accent", width=0.007)


def _lapels(depth: float) -> tuple[Detail, ...]:
    return (
        Detail("line", ((-0.05, 0.152), (-0.075, 0.2), (0.0, depth)), width=0.005),
        Detail("line", ((0.05, 0.152), (0.075, 0.2), (0.0, depth)), width=0.005),
    )


def _trousers(*, hem: float, outer: float, inner: float) -> Polygon:
    return (
        (-0.095, 0.44),
        (0.095, 0.44),
        (0.105, 0.50),
        (outer, hem),
        (inner, hem),
        (0.0, 0.565),
        (-inner, hem),
        (-outer, hem),
        (-0.105, 0.50),
    )


def _skirt(*, hem: float, half: float) -> Polygon:
    return ((-0.095, 0.44), (0.095, 0.44), (0.105, 0.50), (half, hem), (-half, hem), (-0.105, 0.50))


def _build(shape: str) -> Geometry:
    if shape == "tshirt":
        torso = _torso(shoulder=0.125, hem=0.48, hem_half=0.105, neck_half=0.045, neck_depth=0.03)
        return Geometry(
            (torso, *_sleeve(0.12, 0.078, 0.07)),
            (Detail("line", ((-0.045, 0.152), (0.0, 0.182), (0.045, 0.152)), "accent", 0.006),),
        )
    if shape == "longsleeve":
        torso = _torso(shoulder=0.125, hem=0.48, hem_half=0.105, neck_half=0.04, neck_depth=0.025)
        return Geometry((torso, *_sleeve(0.37, 0.074, 0.052)), _cuffs(0.37, 0.052))
    if shape == "tank":
        return Geometry((_strapped(hem=0.47, hem_half=0.102),), (_hem(0.46, 0.1),))
    if shape == "shirt":
        torso = _torso(shoulder=0.125, hem=0.50, hem_half=0.108, neck_half=0.038, neck_depth=0.05)
        collar = (
            Detail("line", ((-0.045, 0.148), (-0.03, 0.19), (0.0, 0.2)), width=0.005),
            Detail("line", ((0.045, 0.148), (0.03, 0.19), (0.0, 0.2)), width=0.005),
        )
        return Geometry(
            (torso, *_sleeve(0.36, 0.074, 0.054)),
            (
                *collar,
                Detail("line", ((0.0, 0.2), (0.0, 0.5))),
                _buttons(0.008, (0.23, 0.29, 0.35, 0.41, 0.47)),
                *_cuffs(0.36, 0.054),
            ),
        )
    if shape == "crop":
        torso = _torso(shoulder=0.12, hem=0.36, hem_half=0.092, neck_half=0.05, neck_depth=0.035)
        return Geometry((torso, *_sleeve(0.09, 0.076, 0.07)), (_hem(0.35, 0.09),))
    if shape == "trousers":
        return Geometry(
            (_trousers(hem=0.94, outer=0.10, inner=0.02),),
            (_hem(0.46, 0.097), Detail("line", ((0.0, 0.46), (0.0, 0.54)))),
        )
    if shape == "wide_trousers":
        return Geometry(
            (_trousers(hem=0.95, outer=0.15, inner=0.012),),
            (_hem(0.46, 0.097), Detail("line", ((0.0, 0.46), (0.0, 0.54)))),
        )
    if shape == "shorts":
        return Geometry(
            (_trousers(hem=0.63, outer=0.12, inner=0.01),),
            (_hem(0.46, 0.097), _hem(0.61, 0.115)),
        )
    if shape == "skirt":
        return Geometry(
            (_skirt(hem=0.72, half=0.16),),
            (
                _hem(0.46, 0.097),
                Detail("line", ((-0.04, 0.46), (-0.06, 0.72))),
                Detail("line", ((0.04, 0.46), (0.06, 0.72))),
            ),
        )
    if shape == "mini_skirt":
        return Geometry((_skirt(hem=0.59, half=0.135),), (_hem(0.46, 0.097),))
    if shape == "jacket":
        torso = _torso(shoulder=0.135, hem=0.54, hem_half=0.118, neck_half=0.05, neck_depth=0.02)
        return Geometry(
            (torso, *_sleeve(0.38, 0.088, 0.066)),
            (
                Detail("line", ((0.0, 0.172), (0.0, 0.54)), "accent", 0.006),
                Detail("line", ((-0.06, 0.42), (-0.025, 0.42))),
                Detail("line", ((0.06, 0.42), (0.025, 0.42))),
                *_cuffs(0.38, 0.066),
            ),
        )
    if shape == "coat":
        torso = _torso(shoulder=0.135, hem=0.80, hem_half=0.15, neck_half=0.05, neck_depth=0.02)
        return Geometry(
            (torso, *_sleeve(0.39, 0.09, 0.07)),
            (
                *_lapels(0.30),
                _buttons(-0.03, (0.33, 0.42, 0.51)),
                _buttons(0.03, (0.33, 0.42, 0.51)),
                _hem(0.44, 0.095),
            ),
        )
    if shape == "blazer":
        torso = _torso(shoulder=0.135, hem=0.57, hem_half=0.122, neck_half=0.05, neck_depth=0.02)
        return Geometry(
            (torso, *_sleeve(0.37, 0.086, 0.064)),
            (
                *_lapels(0.36),
                _buttons(0.0, (0.39, 0.46)),
                Detail("line", ((0.0, 0.36), (0.0, 0.57))),
            ),
        )
    if shape == "sheath":
        torso = _torso(shoulder=0.12, hem=0.73, hem_half=0.112, neck_half=0.045, neck_depth=0.04)
        return Geometry((torso, *_sleeve(0.08, 0.076, 0.07)), (_hem(0.40, 0.088),))
    if shape == "aline":
        torso = _torso(shoulder=0.12, hem=0.71, hem_half=0.19, neck_half=0.05, neck_depth=0.05)
        return Geometry((torso, *_sleeve(0.06, 0.076, 0.072)), (_hem(0.40, 0.09),))
    if shape == "maxi":
        return Geometry((_strapped(hem=0.95, hem_half=0.18),), (_hem(0.40, 0.088),))
    if shape == "slip":
        return Geometry((_strapped(hem=0.67, hem_half=0.13),), ())
    raise ValueError(f"unknown garment shape {shape!r}; known: {sorted(SHAPE_CATEGORY)}")


@lru_cache(maxsize=64)
def garment_geometry(shape: str) -> Geometry:
    """The outline and details of ``shape`` in body coordinates."""
    return _build(shape)
