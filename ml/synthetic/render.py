"""Drawing garments: product shots and worn scenes with ground-truth boxes.

Everything is seeded: a :class:`GarmentSpec` fixes the garment, a view or scene number
fixes the photo around it, so the same arguments give the same pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from ml.synthetic.patterns import texture
from ml.synthetic.shapes import ARM_DIR, ARM_LENGTH, SHOULDER, Geometry, Polygon, garment_geometry
from ml.synthetic.spec import GarmentSpec, derive_seed, sample_spec
from ml.types import Box, GarmentCategory

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]

_SKIN = ((241, 200, 170), (224, 172, 138), (198, 140, 100), (150, 100, 70), (96, 62, 44))
_HAIR = ((20, 16, 14), (70, 46, 30), (150, 110, 60), (200, 180, 130), (120, 30, 20))
_DRAW_ORDER: dict[str, int] = {"bottom": 0, "top": 1, "dress": 1, "outer": 2}
_COMPANIONS: dict[str, tuple[GarmentCategory, ...]] = {
    "top": ("bottom",),
    "bottom": ("top",),
    "outer": ("top", "bottom"),
    "dress": (),
}


@dataclass(frozen=True)
class GarmentBox:
    """A garment visible in a rendered image: its category, box (image pixels) and spec.

    ``is_target``: the garment the image was rendered for (not a companion garment).
    """

    category: GarmentCategory
    box: Box
    spec: GarmentSpec
    is_target: bool


@dataclass(frozen=True)
class RenderedImage:
    image: Image.Image
    garments: tuple[GarmentBox, ...]
    person: Box | None  # None for a product shot

    @property
    def target(self) -> GarmentBox | None:
        return next((g for g in self.garments if g.is_target), None)


@dataclass(frozen=True)
class WornOptions:
    """How a worn scene varies. The defaults give consumer-photo-like variety."""

    person_height: tuple[float, float] = (0.8, 1.1)  # figure height / image side
    max_rotation: float = 12.0  # degrees, either way
    clutter: bool = True  # a busy background (else a plain one)
    relight: bool = True  # colour cast, brightness, gamma, a light gradient, noise
    jpeg_quality: tuple[int, int] | None = (40, 90)
    companions: bool = True  # the rest of an outfit (a top with a bottom...)
    min_visible_pixels: int = 40  # garments showing fewer pixels get no box


@dataclass(frozen=True)
class _Placement:
    """Body coordinates to pixels: x = s * u + tx, y = s * v + ty."""

    s: float
    tx: float
    ty: float

    def pixels(self, points: Polygon, x0: int = 0, y0: int = 0) -> npt.NDArray[np.int32]:
        """Fixed-point (shift 4) pixel coordinates for cv2, relative to (x0, y0)."""
        arr = np.asarray(points, dtype=np.float64)
        px = arr * self.s + (self.tx - x0 - 0.5, self.ty - y0 - 0.5)
        return np.round(px * 16).astype(np.int32)


def _colours(spec: GarmentSpec) -> F32:
    return np.asarray(spec.colours, dtype=np.float32).reshape(-1, 3)


def _patch_bounds(
    geo: Geometry, place: _Placement, width: int, height: int
) -> tuple[int, int, int, int] | None:
    bx0, by0, bx1, by1 = geo.bbox
    x0 = max(math.floor(place.s * bx0 + place.tx) - 2, 0)
    y0 = max(math.floor(place.s * by0 + place.ty) - 2, 0)
    x1 = min(math.ceil(place.s * bx1 + place.tx) + 2, width)
    y1 = min(math.ceil(place.s * by1 + place.ty) + 2, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _rasterise(geo: Geometry, place: _Placement, bounds: tuple[int, int, int, int]) -> U8:
    x0, y0, x1, y1 = bounds
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    for polygon in geo.polygons:  # one at a time: fillPoly treats overlaps even-odd
        cv2.fillPoly(mask, [place.pixels(polygon, x0, y0)], 255, cv2.LINE_AA, 4)
    return mask


def _draw_garment(
    canvas: F32, spec: GarmentSpec, place: _Placement
) -> tuple[U8, tuple[int, int, int, int]] | None:
    """Paints ``spec`` on ``canvas`` in place; returns its coverage mask and patch bounds."""
    geo = garment_geometry(spec.shape)
    height, width = canvas.shape[:2]
    bounds = _patch_bounds(geo, place, width, height)
    if bounds is None:
        return None
    x0, y0, x1, y1 = bounds
    mask = _rasterise(geo, place, bounds)
    xs = ((np.arange(x0, x1, dtype=np.float32) + 0.5 - place.tx) / place.s).astype(np.float32)
    ys = ((np.arange(y0, y1, dtype=np.float32) + 0.5 - place.ty) / place.s).astype(np.float32)
    u = np.broadcast_to(xs[None, :], mask.shape)
    v = np.broadcast_to(ys[:, None], mask.shape)
    colours = _colours(spec)
    tex = texture(spec.pattern, colours, spec.seed, u, v, geo.bbox)

    # Light from above, soft folds, darker edges: enough shading to read as cloth.
    rng = np.random.default_rng([spec.seed, 202])
    _, by0, _, by1 = geo.bbox
    freq = float(rng.uniform(35.0, 80.0))
    phase = float(rng.uniform(0.0, 6.2832))
    shade = 1.0 - 0.08 * (v - by0) / max(by1 - by0, 1e-6)
    shade = shade - 0.09 * np.maximum(0.0, np.sin(u * freq + phase)) ** 6
    inside = np.asarray(cv2.distanceTransform(mask, cv2.DIST_L2, 3), dtype=np.float32)
    edge = np.minimum(inside / max(1.0, 0.02 * place.s), 1.0)
    shade = shade * (0.75 + 0.25 * edge)
    tex *= shade[..., None].astype(np.float32)

    main = colours[0]
    seam = main * 0.6 if float(main.mean()) > 50 else main + 60.0
    accent = colours[2 % len(colours)]
    for detail in geo.details:
        colour = tuple(float(c) for c in (accent if detail.colour == "accent" else seam))
        size = max(1, round(detail.width * place.s))
        pts = place.pixels(detail.points, x0, y0)
        if detail.kind == "buttons":
            for cx, cy in pts:
                cv2.circle(tex, (int(cx), int(cy)), size * 16 // 2 + 8, colour, -1, cv2.LINE_AA, 4)
        else:
            cv2.polylines(tex, [pts], False, colour, size, cv2.LINE_AA, 4)

    a = (mask.astype(np.float32) / 255.0)[..., None]
    region = canvas[y0:y1, x0:x1]
    region *= 1.0 - a
    region += tex * a
    return mask, bounds


def _to_image(canvas: F32) -> Image.Image:
    return Image.fromarray(np.clip(canvas + 0.5, 0, 255).astype(np.uint8), "RGB")


def _bbox_of(mask: F32 | U8, threshold: float) -> Box | None:
    points = cv2.findNonZero((mask > threshold).astype(np.uint8))
    if points is None:
        return None
    x, y, w, h = cv2.boundingRect(points)
    return Box(float(x), float(y), float(x + w), float(y + h))


def render_product_shot(
    spec: GarmentSpec, *, size: int = 256, view: int = 0, margin: float = 0.08
) -> RenderedImage:
    """A catalog photo: the garment alone, centred, on a clean light background."""
    rng = np.random.default_rng([spec.seed, view, 303])
    geo = garment_geometry(spec.shape)
    bx0, by0, bx1, by1 = geo.bbox
    s = size * (1.0 - 2.0 * margin) / max(bx1 - bx0, by1 - by0)
    place = _Placement(s, size / 2 - s * (bx0 + bx1) / 2, size / 2 - s * (by0 + by1) / 2)

    base = (float(rng.uniform(232.0, 250.0)) + rng.uniform(-4.0, 4.0, 3)).astype(np.float32)
    ramp = np.linspace(0.0, -10.0, size, dtype=np.float32)[:, None, None]
    # A soft drop shadow, drawn at quarter size (it is a blur anyway).
    small = max(8, size // 4)
    shadow_place = _Placement(
        place.s * small / size,
        (place.tx + 0.012 * size) * small / size,
        (place.ty + 0.018 * size) * small / size,
    )
    shadow = np.zeros((small, small), dtype=np.uint8)
    for polygon in geo.polygons:
        cv2.fillPoly(shadow, [shadow_place.pixels(polygon)], 255, cv2.LINE_AA, 4)
    shadow = np.asarray(cv2.GaussianBlur(shadow, (0, 0), 0.02 * small), dtype=np.uint8)
    shade = cv2.resize(shadow, (size, size), interpolation=cv2.INTER_LINEAR)
    light = 1.0 - (0.18 / 255.0) * np.asarray(shade, dtype=np.float32)
    canvas = ((base + ramp) * light[..., None]).astype(np.float32)

    drawn = _draw_garment(canvas, spec, place)
    assert drawn is not None
    mask, (x0, y0, _, _) = drawn
    box = _bbox_of(mask, 0)
    assert box is not None
    garment = GarmentBox(spec.category, box.shift(x0, y0), spec, True)
    return RenderedImage(_to_image(canvas), (garment,), None)


def _clutter(rng: np.random.Generator, size: int) -> F32:
    top = rng.uniform(40.0, 230.0, 3)
    bottom = rng.uniform(20.0, 200.0, 3)
    t = np.linspace(0.0, 1.0, size)[:, None, None]
    img = np.ascontiguousarray(
        np.broadcast_to(top * (1 - t) + bottom * t, (size, size, 3)).astype(np.uint8)
    )
    for _ in range(int(rng.integers(14, 32))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = int(rng.integers(4))
        x, y = (int(c) for c in rng.integers(-size // 8, size + size // 8, 2))
        r = int(rng.integers(size // 20, size // 4))
        if kind == 0:
            cv2.rectangle(img, (x, y), (x + r, y + int(rng.integers(4, size // 3))), colour, -1)
        elif kind == 1:
            cv2.circle(img, (x, y), r // 2, colour, -1, cv2.LINE_AA)
        elif kind == 2:
            x2, y2 = (int(c) for c in rng.integers(0, size, 2))
            cv2.line(img, (x, y), (x2, y2), colour, int(rng.integers(1, 8)), cv2.LINE_AA)
        else:
            angle = float(rng.uniform(0, 180))
            cv2.ellipse(img, (x, y), (r, r // 3 + 1), angle, 0, 360, colour, -1, cv2.LINE_AA)
    sigma = float(rng.uniform(0.0, 1.8))
    if sigma > 0.4:
        img = np.asarray(cv2.GaussianBlur(img, (0, 0), sigma), dtype=np.uint8)
    return img.astype(np.float32)


def _plain(rng: np.random.Generator, size: int) -> F32:
    colour = rng.uniform(90.0, 200.0, 3).astype(np.float32)
    return np.ascontiguousarray(np.broadcast_to(colour, (size, size, 3))).astype(np.float32)


def _draw_figure(canvas: F32, alpha: F32, place: _Placement, rng: np.random.Generator) -> None:
    skin = tuple(float(c) for c in _SKIN[int(rng.integers(len(_SKIN)))])
    hair = tuple(float(c) for c in _HAIR[int(rng.integers(len(_HAIR)))])
    shoe = tuple(float(c) for c in rng.uniform(10.0, 90.0, 3))
    s = place.s

    def poly(points: Polygon, colour: tuple[float, ...]) -> None:
        pts = [place.pixels(points)]
        cv2.fillPoly(canvas, pts, colour, cv2.LINE_AA, 4)
        cv2.fillPoly(alpha, pts, 1.0, cv2.LINE_AA, 4)

    def ellipse(
        centre: tuple[float, float],
        axes: tuple[float, float],
        colour: tuple[float, ...],
        start: int = 0,
        end: int = 360,
    ) -> None:
        c = place.pixels((centre,))[0]
        ax = (max(1, round(axes[0] * s * 16)), max(1, round(axes[1] * s * 16)))
        centre_px = (int(c[0]), int(c[1]))
        cv2.ellipse(canvas, centre_px, ax, 0, start, end, colour, -1, cv2.LINE_AA, 4)
        cv2.ellipse(alpha, centre_px, ax, 0, start, end, 1.0, -1, cv2.LINE_AA, 4)

    for side in (1.0, -1.0):
        leg: Polygon = (
            (0.10 * side, 0.5),
            (0.005 * side, 0.5),
            (0.02 * side, 0.94),
            (0.075 * side, 0.94),
        )
        poly(leg, skin)
        ellipse((0.05 * side, 0.955), (0.035, 0.016), shoe)
        px, py = SHOULDER
        dx, dy = ARM_DIR
        w = 0.021
        nx, ny = -dy, dx
        end = (px + dx * ARM_LENGTH, py + dy * ARM_LENGTH)
        arm: Polygon = (
            ((px + nx * w) * side, py + ny * w),
            ((end[0] + nx * w * 0.8) * side, end[1] + ny * w * 0.8),
            ((end[0] - nx * w * 0.8) * side, end[1] - ny * w * 0.8),
            ((px - nx * w) * side, py - ny * w),
        )
        poly(arm, skin)
        ellipse((end[0] * side + dx * 0.015 * side, end[1] + dy * 0.015), (0.02, 0.024), skin)
    poly(
        ((-0.11, 0.16), (0.11, 0.16), (0.085, 0.40), (0.10, 0.50), (-0.10, 0.50), (-0.085, 0.40)),
        skin,
    )
    poly(((-0.025, 0.10), (0.025, 0.10), (0.025, 0.17), (-0.025, 0.17)), skin)
    ellipse((0.0, 0.07), (0.045, 0.058), skin)
    ellipse((0.0, 0.055), (0.05, 0.045), hair, 180, 360)


def _relight(img: F32, rng: np.random.Generator) -> U8:
    """Colour cast, brightness, a light gradient, sensor noise and gamma."""
    size = img.shape[0]
    angle = float(rng.uniform(0.0, 6.2832))
    strength = float(rng.uniform(0.0, 0.35))
    ramp = np.linspace(-0.5, 0.5, size, dtype=np.float32)
    light = 1.0 + strength * (ramp[None, :] * math.cos(angle) + ramp[:, None] * math.sin(angle))
    out = img * light[..., None]
    sigma = float(rng.uniform(0.0, 5.0))
    if sigma > 0.5:  # the same on the three channels (luma noise)
        out += rng.standard_normal((size, size, 1), dtype=np.float32) * sigma
    as_bytes = np.clip(out + 0.5, 0.0, 255.0).astype(np.uint8)
    gains = rng.uniform(0.85, 1.15, 3) * rng.uniform(0.75, 1.2)
    gamma = float(rng.uniform(0.8, 1.25))
    levels = np.arange(256, dtype=np.float64)[:, None] * gains[None, :]
    table = (255.0 * (np.clip(levels, 0.0, 255.0) / 255.0) ** gamma + 0.5).astype(np.uint8)
    return np.asarray(cv2.LUT(as_bytes, table.reshape(256, 1, 3)), dtype=np.uint8)


def _jpeg(img: U8, quality: int) -> U8:
    bgr = np.ascontiguousarray(img[..., ::-1])
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 RGB array
        raise RuntimeError("JPEG encoding failed")
    decoded = np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), dtype=np.uint8)
    return np.ascontiguousarray(decoded[..., ::-1])


def render_worn(
    spec: GarmentSpec,
    *,
    size: int = 256,
    scene: int = 0,
    options: WornOptions | None = None,
) -> RenderedImage:
    """A consumer-like photo: the garment worn by a simple figure in a busy scene.

    The figure (with the rest of an outfit unless ``options.companions`` is off) is
    scaled, placed, rotated, relit and JPEG-compressed. Boxes (each visible garment's and
    the person's) enclose every pixel of the final image that is at least a quarter that
    garment (or person); a garment hidden under another counts only where it shows.
    """
    opts = options or WornOptions()
    rng = np.random.default_rng([spec.seed, scene, 404])
    garments = [spec]
    if opts.companions:
        style = spec.styles[0] if spec.styles else None
        for k, category in enumerate(_COMPANIONS[spec.category]):
            garments.append(
                sample_spec(
                    derive_seed(spec.seed, scene, k + 1),
                    category=category,
                    style=style,
                    styles=spec.styles or None,
                )
            )
    garments.sort(key=lambda g: _DRAW_ORDER[g.category])

    s = size * float(rng.uniform(*opts.person_height))
    tx = size / 2 + float(rng.uniform(-1.0, 1.0)) * max(0.0, size / 2 - 0.26 * s)
    if 0.98 * s <= size:
        ty = float(rng.uniform(-0.01 * s, size - 0.98 * s))
    else:  # zoomed in: keep the target garment's middle in the frame
        _, gy0, _, gy1 = garment_geometry(spec.shape).bbox
        ty = size * float(rng.uniform(0.35, 0.65)) - s * (gy0 + gy1) / 2
    place = _Placement(s, tx, ty)

    layer = np.zeros((size, size, 3), dtype=np.float32)
    alpha = np.zeros((size, size), dtype=np.float32)
    _draw_figure(layer, alpha, place, rng)
    masks: list[F32] = []
    for garment in garments:
        drawn = _draw_garment(layer, garment, place)
        full = np.zeros((size, size), dtype=np.float32)
        if drawn is not None:
            mask, (x0, y0, x1, y1) = drawn
            cover = mask.astype(np.float32) / 255.0
            for earlier in masks:  # what this garment covers is no longer visible
                earlier[y0:y1, x0:x1] *= 1.0 - cover
            full[y0:y1, x0:x1] = cover
            np.maximum(alpha[y0:y1, x0:x1], cover, out=alpha[y0:y1, x0:x1])
        masks.append(full)

    angle = float(rng.uniform(-opts.max_rotation, opts.max_rotation))
    if abs(angle) > 0.05:
        rot = cv2.getRotationMatrix2D((size / 2, size / 2), angle, 1.0)

        def warp(a: F32) -> F32:
            return np.asarray(
                cv2.warpAffine(a, rot, (size, size), flags=cv2.INTER_LINEAR), dtype=np.float32
            )

        layer = warp(layer)
        # alpha and up to three garment masks travel as one 4-channel image
        stack = warp(np.ascontiguousarray(np.stack([alpha, *masks], axis=-1)))
        alpha = np.ascontiguousarray(stack[..., 0])
        masks = [np.ascontiguousarray(stack[..., i + 1]) for i in range(len(masks))]

    background = _clutter(rng, size) if opts.clutter else _plain(rng, size)
    a3 = np.clip(alpha, 0.0, 1.0)[..., None]
    # The layer holds premultiplied colour (garments and skin painted over black).
    composed = background * (1.0 - a3) + layer
    img: U8 = (
        _relight(composed, rng)
        if opts.relight
        else np.clip(composed + 0.5, 0.0, 255.0).astype(np.uint8)
    )
    if opts.jpeg_quality is not None:
        lo, hi = opts.jpeg_quality
        img = _jpeg(img, int(rng.integers(lo, hi + 1)))

    boxes: list[GarmentBox] = []
    for garment, visible in zip(garments, masks, strict=True):
        if int(np.count_nonzero(visible > 0.5)) < opts.min_visible_pixels:
            continue
        box = _bbox_of(visible, 0.25)
        if box is not None:
            boxes.append(GarmentBox(garment.category, box, garment, garment is spec))
    person = _bbox_of(alpha, 0.25)
    return RenderedImage(Image.fromarray(img, "RGB"), tuple(boxes), person)
