"""The default encoder: a colour + texture + shape descriptor that needs no weights.

Used when no encoder weights are configured (``ML_ENCODER=descriptor``, the default). It
is deterministic (no randomness, no learned parameters) and uses numpy and OpenCV only.

Pipeline for one garment crop (any size, any mode; converted to RGB):

1. **Work image.** Resized (area interpolation) so that its longer side is
   ``WORK_SIDE`` (128) pixels; converted to CIE Lab.
2. **Background suppression** (:func:`foreground_mask`), in one of two ways:

   - *plain backdrop* (:func:`plain_background_mask`; catalog shots, a wall, a sheet):
     when the image's outer edge is one colour (90 % of its pixels within
     ``PLAIN_SPREAD`` Lab units of their median), a flood fill from every edge pixel that
     follows steps of at most ``FLOOD_TOLERANCE`` per channel (a light gradient, a soft
     shadow) marks the backdrop; everything it cannot reach is the garment, so a white
     shirt on a light grey sweep keeps its white parts.
   - *busy scene*: a cheap two-pass colour model, "GrabCut without the graph cut": a
     colour histogram of the outer border band against one of the interior gives each
     pixel a foreground probability; the map is smoothed, weighted by a soft centre prior
     and thresholded; the second pass re-estimates both colour models from that first
     mask.

   Either way the largest outer contour, filled, is the garment's silhouette. A mask that
   covers almost nothing or almost everything falls back to a centred ellipse.
3. **Normalised crop.** The silhouette's bounding box (plus a small margin) is cut from
   the work image and its mask and resized to ``CROP_SIDE`` x ``CROP_SIDE`` (64), so the
   layout blocks, and the texture statistics, do not depend on where the garment lies or
   how big it is in the photo (a garment 70 pixels tall in a street photo and the same
   garment 240 pixels tall in its catalog shot are compared at one scale).

The vector (``DIM`` = 697 float32, L2-normalised by :class:`ml.base.Encoder`) is the
concatenation of these blocks, each L2-normalised on its own and multiplied by its weight
(:data:`BLOCK_WEIGHTS`), histograms power-normalised (square root) first:

=====  ==============  =====  =============================================================
start  block           dims   what
=====  ==============  =====  =============================================================
0      ``colour``      42     soft histogram over the silhouette in Lab polar form: 12 hue
                              bins x 3 lightness bins for chromatic pixels and 6 lightness
                              bins for neutral ones (black, greys, white)
42     ``lab``         100    soft 3-D histogram of the silhouette's Lab colours on a coarse
                              4 (L*) x 5 (a*) x 5 (b*) grid: broad colour bins, so a colour
                              cast moves a garment's colour to a neighbouring bin, not away
142    ``relative``    125    colour relations inside the garment, which a colour cast does
                              not change: a soft 5 x 5 x 5 histogram of each pixel's
                              log-opponent chromaticity (log R/G, log RG/B^2) and log
                              brightness, less the garment's median of each (per-channel
                              gains cancel); a solid garment is one spike, a print spreads
267    ``texture``     30     rotation-invariant uniform LBP (8 neighbours, 10 codes; a
                              neighbour counts as brighter above +5 L*, so sensor noise
                              and JPEG blocks do not flip codes) at radius 1 and 2 over
                              the silhouette in the normalised crop, and a 10-bin histogram
                              of its log gradient magnitude
297    ``edges``       288    HOG-like: 8 unsigned orientation bins (soft) in a 6 x 6 grid
                              over the crop's lightness, weighted by the dilated silhouette
                              (outline and print edges both count); gradients below
                              ``EDGE_FLOOR`` (noise, JPEG blocks, shading) are dropped
585    ``shape``       16     the silhouette's extent from its centroid in 12 directions
                              (relative to the mean, in the box's own scale), log aspect of
                              the box, fill ratio, the first two Hu moments
601    ``pattern``     64     the contrast-normalised luminance of the garment (zero
                              outside the silhouette) as an 8 x 8 thumbnail of the crop
665    ``spectrum``    32     log power spectrum of the masked crop's luminance in 8 radial
                              (frequency) x 4 orientation bands, centred: print scale and
                              direction (stripes, checks, dots)
=====  ==============  =====  =============================================================

Bump :attr:`DescriptorEncoder.version` whenever any of this changes: vectors of
different versions must never share an index.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from ml.base import Encoder

FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]

WORK_SIDE: Final = 128
CROP_SIDE: Final = 64
BORDER_FRACTION: Final = 0.07
MIN_SIDE: Final = 8

HUE_BINS: Final = 12
CHROMA_LIGHTNESS_BINS: Final = 3
NEUTRAL_BINS: Final = 6
LBP_CODES: Final = 10
LBP_THRESHOLD: Final = 5.0
PLAIN_SPREAD: Final = 10.0
FLOOD_TOLERANCE: Final = 2
LAB_GRID: Final = ((4, 10.0, 90.0), (5, -40.0, 40.0), (5, -40.0, 40.0))
RELATIVE_GRID: Final = ((5, -0.6, 0.6), (5, -0.6, 0.6), (5, -1.2, 1.2))
EDGE_FLOOR: Final = 10.0
GRADIENT_BINS: Final = 10
ORIENTATION_BINS: Final = 8
EDGE_GRID: Final = 6
RADIAL_DIRECTIONS: Final = 12
PATTERN_SIDE: Final = 8
SPECTRUM_RADII: Final = 8
SPECTRUM_ANGLES: Final = 4

BLOCK_DIMS: Final[dict[str, int]] = {
    "colour": HUE_BINS * CHROMA_LIGHTNESS_BINS + NEUTRAL_BINS,
    "lab": int(np.prod([n for n, _, _ in LAB_GRID])),
    "relative": int(np.prod([n for n, _, _ in RELATIVE_GRID])),
    "texture": 2 * LBP_CODES + GRADIENT_BINS,
    "edges": EDGE_GRID * EDGE_GRID * ORIENTATION_BINS,
    "shape": RADIAL_DIRECTIONS + 4,
    "pattern": PATTERN_SIDE * PATTERN_SIDE,
    "spectrum": SPECTRUM_RADII * SPECTRUM_ANGLES,
}
DIM: Final = sum(BLOCK_DIMS.values())

#: Each block's share of the vector (its L2 norm before the final normalisation). Chosen
#: by a coordinate search over these eight numbers against the three retrieval measures
#: of ``docs/benchmarks.md`` (real photos: category precision@10 and consumer-copy top-1;
#: synthetic worn -> product top-1); see that section for what they reach.
BLOCK_WEIGHTS: Final[dict[str, float]] = {
    "colour": 0.22,
    "lab": 0.52,
    "relative": 0.7,
    "texture": 1.4,
    "edges": 1.25,
    "shape": 0.53,
    "pattern": 0.23,
    "spectrum": 0.83,
}


def to_rgb_array(image: Image.Image) -> npt.NDArray[np.uint8]:
    """The image as an (h, w, 3) uint8 RGB array, its longer side at most ``WORK_SIDE``
    and each side at least ``MIN_SIDE``."""
    if image.mode != "RGB":
        if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba).convert("RGB")
        elif image.mode in ("I;16", "I;16B", "I;16L", "I"):
            array16 = np.asarray(image, dtype=np.float64)
            top = float(array16.max()) or 1.0
            image = Image.fromarray((array16 * (255.0 / top)).astype(np.uint8)).convert("RGB")
        else:
            image = image.convert("RGB")
    if max(image.size) > WORK_SIDE:
        # Shrinking before the array exists keeps full-size photos cheap (PIL reduces by
        # whole factors first, then resamples).
        scale = WORK_SIDE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    array = np.asarray(image, dtype=np.uint8)
    h, w = array.shape[:2]
    if h < MIN_SIDE or w < MIN_SIDE:
        new_w, new_h = max(w, MIN_SIDE), max(h, MIN_SIDE)
        array = np.asarray(
            cv2.resize(array, (new_w, new_h), interpolation=cv2.INTER_NEAREST), dtype=np.uint8
        )
    return np.ascontiguousarray(array)


def _work_image(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    h, w = rgb.shape[:2]
    scale = WORK_SIDE / max(h, w)
    new_w, new_h = max(MIN_SIDE, round(w * scale)), max(MIN_SIDE, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = np.asarray(
        cv2.resize(rgb, (new_w, new_h), interpolation=interpolation), dtype=np.uint8
    )
    return resized


# -- background suppression ------------------------------------------------------------

_Q_L, _Q_A, _Q_B = 6, 12, 12
_SMOOTH = np.array([0.25, 0.5, 0.25], dtype=np.float32)


def _colour_bins(lab: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
    """A coarse Lab bin index per pixel (a*, b* clipped to the range garments live in)."""
    lq = lab[..., 0].astype(np.intp) * _Q_L // 256
    aq = np.clip((lab[..., 1].astype(np.intp) - 80) * _Q_A // 96, 0, _Q_A - 1)
    bq = np.clip((lab[..., 2].astype(np.intp) - 80) * _Q_B // 96, 0, _Q_B - 1)
    bins: npt.NDArray[np.intp] = (lq * _Q_A + aq) * _Q_B + bq
    return bins


def _smoothed_histogram(bins: npt.NDArray[np.intp]) -> FloatArray:
    """The normalised Lab histogram of ``bins``, smoothed by [1, 2, 1] / 4 along each axis."""
    hist = np.bincount(bins.ravel(), minlength=_Q_L * _Q_A * _Q_B).astype(np.float32)
    # (a, b) as the image plane and L as channels: OpenCV smooths the plane in one call.
    plane = np.ascontiguousarray(hist.reshape(_Q_L, _Q_A, _Q_B).transpose(1, 2, 0))
    plane = np.asarray(
        cv2.sepFilter2D(plane, -1, _SMOOTH, _SMOOTH, borderType=cv2.BORDER_REPLICATE),
        dtype=np.float32,
    )
    cube = plane.copy()
    cube[..., 1:] += 0.5 * plane[..., :-1]
    cube[..., :-1] += 0.5 * plane[..., 1:]
    flat = cube.transpose(2, 0, 1).reshape(-1)
    total = float(flat.sum())
    result: FloatArray = (flat / total if total > 0 else flat).astype(np.float32)
    return result


def _centre_prior(h: int, w: int) -> FloatArray:
    ys = (np.arange(h, dtype=np.float32) + 0.5) / h - 0.5
    xs = (np.arange(w, dtype=np.float32) + 0.5) / w - 0.5
    d2 = (ys[:, None] / 0.5) ** 2 + (xs[None, :] / 0.5) ** 2
    prior: FloatArray = np.exp(-d2 / 0.9).astype(np.float32)
    return prior


def _fallback_mask(h: int, w: int) -> npt.NDArray[np.uint8]:
    mask = np.zeros((h, w), dtype=np.uint8)
    cv2.ellipse(
        mask, (w // 2, h // 2), (max(1, int(w * 0.4)), max(1, int(h * 0.4))), 0, 0, 360, 1, -1
    )
    return mask


def _largest_filled(mask: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8] | None:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    largest = max(contours, key=cv2.contourArea)
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, [largest], -1, 1, thickness=-1)
    return filled


def _edge_pixels(h: int, w: int) -> list[tuple[int, int]]:
    """(x, y) of every pixel on the image's outer edge."""
    return (
        [(x, 0) for x in range(w)]
        + [(x, h - 1) for x in range(w)]
        + [(0, y) for y in range(1, h - 1)]
        + [(w - 1, y) for y in range(1, h - 1)]
    )


def plain_background_mask(lab: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8] | None:
    """The garment on a plain backdrop, or None when the image's edge is not one colour
    (see the module docstring, step 2)."""
    h, w = lab.shape[:2]
    edge = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]).astype(np.float32)
    spread = np.linalg.norm(edge - np.median(edge, axis=0), axis=1)
    if float(np.percentile(spread, 90)) > PLAIN_SPREAD:
        return None
    image = np.ascontiguousarray(lab)
    flooded = np.zeros((h + 2, w + 2), dtype=np.uint8)
    step = (FLOOD_TOLERANCE,) * 3
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    for x, y in _edge_pixels(h, w):
        if not flooded[y + 1, x + 1]:
            cv2.floodFill(image, flooded, (x, y), (0, 0, 0), step, step, flags)
    garment = np.ascontiguousarray(1 - flooded[1:-1, 1:-1])
    garment = np.asarray(
        cv2.morphologyEx(garment, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)), dtype=np.uint8
    )
    mask = _largest_filled(garment)
    if mask is None or not 0.05 <= float(mask.mean()) <= 0.95:
        return None
    return mask


def foreground_mask(lab: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """A 0/1 garment mask for a Lab work image (see the module docstring, step 2)."""
    plain = plain_background_mask(lab)
    if plain is not None:
        return plain
    h, w = lab.shape[:2]
    band = max(2, round(BORDER_FRACTION * min(h, w)))
    border = np.zeros((h, w), dtype=bool)
    border[:band, :] = True
    border[-band:, :] = True
    border[:, :band] = True
    border[:, -band:] = True
    bins = _colour_bins(lab)
    prior = _centre_prior(h, w)
    kernel = np.ones((3, 3), np.uint8)

    background_model = _smoothed_histogram(bins[border])
    foreground_model = _smoothed_histogram(bins[~border])
    mask: npt.NDArray[np.uint8] | None = None
    for _ in range(2):
        pb = background_model[bins]
        pf = foreground_model[bins] * (0.5 + prior)
        probability = np.asarray(
            cv2.blur((pf / (pf + pb + 1e-6)).astype(np.float32), (5, 5)), dtype=np.float32
        )
        raw = (probability > 0.5).astype(np.uint8)
        raw = np.asarray(cv2.morphologyEx(raw, cv2.MORPH_OPEN, kernel), dtype=np.uint8)
        raw = np.asarray(cv2.morphologyEx(raw, cv2.MORPH_CLOSE, kernel), dtype=np.uint8)
        mask = _largest_filled(raw)
        if mask is None:
            break
        inside = mask.astype(bool)
        fraction = float(inside.mean())
        if fraction < 0.03 or fraction > 0.97:
            mask = None
            break
        foreground_model = _smoothed_histogram(bins[inside])
        background_model = _smoothed_histogram(bins[~inside])
    if mask is None:
        return _fallback_mask(h, w)
    return mask


# -- feature blocks ---------------------------------------------------------------------


def _soft_bins(
    values: FloatArray, n: int, lo: float, hi: float, *, circular: bool = False
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], FloatArray]:
    """Linear-interpolation binning: (lower bin, upper bin, weight of the upper bin)."""
    if circular:
        position = (values - lo) / (hi - lo) * n - 0.5
        lower = np.floor(position)
        frac = (position - lower).astype(np.float32)
        low = lower.astype(np.intp) % n
        return low, (low + 1) % n, frac
    position = np.clip((values - lo) / (hi - lo) * (n - 1), 0, n - 1)
    lower = np.minimum(np.floor(position), n - 2) if n > 1 else np.zeros_like(position)
    frac = (position - lower).astype(np.float32)
    low = lower.astype(np.intp)
    return low, np.minimum(low + 1, n - 1), frac


def _colour_histogram(lab_f: FloatArray, weights: FloatArray) -> FloatArray:
    lightness, a, b = lab_f[:, 0], lab_f[:, 1], lab_f[:, 2]
    chroma = np.hypot(a, b)
    chromatic = np.clip((chroma - 6.0) / 10.0, 0.0, 1.0) * weights
    neutral = weights - chromatic
    hue = np.arctan2(b, a)
    h0, h1, hf = _soft_bins(hue, HUE_BINS, -np.pi, np.pi, circular=True)
    l0, l1, lf = _soft_bins(lightness, CHROMA_LIGHTNESS_BINS, 15.0, 85.0)
    size = HUE_BINS * CHROMA_LIGHTNESS_BINS + NEUTRAL_BINS
    hist = np.zeros(size, dtype=np.float64)
    for hi, hw in ((h0, 1.0 - hf), (h1, hf)):
        for li, lw in ((l0, 1.0 - lf), (l1, lf)):
            hist += np.bincount(
                hi * CHROMA_LIGHTNESS_BINS + li, weights=chromatic * hw * lw, minlength=size
            )
    n0, n1, nf = _soft_bins(lightness, NEUTRAL_BINS, 5.0, 95.0)
    offset = HUE_BINS * CHROMA_LIGHTNESS_BINS
    hist += np.bincount(offset + n0, weights=neutral * (1.0 - nf), minlength=size)
    hist += np.bincount(offset + n1, weights=neutral * nf, minlength=size)
    return hist.astype(np.float32)


def _soft_grid(values: FloatArray, grid: Sequence[tuple[int, float, float]]) -> FloatArray:
    """A histogram of the rows of ``values`` on a regular grid, one (bins, low, high) per
    column, each value shared linearly between its two nearest bins on every axis."""
    axes = [_soft_bins(values[:, i], n, lo, hi) for i, (n, lo, hi) in enumerate(grid)]
    sizes = [n for n, _, _ in grid]
    total = int(np.prod(sizes))
    hist = np.zeros(total, dtype=np.float64)
    for corner in itertools.product((0, 1), repeat=len(grid)):
        index = np.zeros(values.shape[0], dtype=np.intp)
        weight = np.ones(values.shape[0], dtype=np.float64)
        for (low, high, frac), size, upper in zip(axes, sizes, corner, strict=True):
            index = index * size + (high if upper else low)
            weight *= frac if upper else 1.0 - frac
        hist += np.bincount(index, weights=weight, minlength=total)
    return hist.astype(np.float32)


def _relative_colour(rgb: FloatArray) -> FloatArray:
    """Log-opponent chromaticity and log brightness of each pixel, less the garment's
    median of each: a per-channel gain (a colour cast) or a brightness change cancels."""
    logc = np.log(np.maximum(rgb, 4.0))
    opponent = np.stack(
        [
            logc[:, 0] - logc[:, 1],
            0.5 * (logc[:, 0] + logc[:, 1]) - logc[:, 2],
            logc.mean(axis=1),
        ],
        axis=1,
    )
    relative: FloatArray = (opponent - np.median(opponent, axis=0)).astype(np.float32)
    return relative


_LBP_OFFSETS = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]


def _lbp_riu2(gray: FloatArray, radius: int) -> npt.NDArray[np.intp]:
    """Rotation-invariant uniform LBP codes (0..9) of the interior pixels (``gray`` in L*)."""
    h, w = gray.shape
    centre = gray[radius : h - radius, radius : w - radius]
    bits = []
    for dy, dx in _LBP_OFFSETS:
        ys = slice(radius + dy * radius, h - radius + dy * radius)
        xs = slice(radius + dx * radius, w - radius + dx * radius)
        bits.append((gray[ys, xs] >= centre + LBP_THRESHOLD).astype(np.int8))
    stack = np.stack(bits)
    ones = stack.sum(axis=0).astype(np.intp)
    transitions = np.abs(stack - np.roll(stack, 1, axis=0)).sum(axis=0)
    codes: npt.NDArray[np.intp] = np.where(transitions <= 2, ones, 9).astype(np.intp)
    return codes


def _texture(gray: FloatArray, mask: FloatArray) -> FloatArray:
    parts = []
    for radius in (1, 2):
        codes = _lbp_riu2(gray, radius)
        inner = mask[radius:-radius, radius:-radius]
        parts.append(np.bincount(codes.ravel(), weights=inner.ravel(), minlength=LBP_CODES))
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.log1p(np.hypot(gx, gy))
    g0, g1, gf = _soft_bins(magnitude.ravel(), GRADIENT_BINS, 0.0, 6.0)
    weights = mask.ravel()
    parts.append(
        np.bincount(g0, weights=weights * (1.0 - gf), minlength=GRADIENT_BINS)
        + np.bincount(g1, weights=weights * gf, minlength=GRADIENT_BINS)
    )
    texture = np.concatenate([p / max(float(p.sum()), 1e-6) for p in parts]).astype(np.float32)
    return texture


def _edges(gray_crop: FloatArray, weight: FloatArray) -> FloatArray:
    """Orientation histograms of ``gray_crop`` (L* units) in a grid; gradients weaker than
    ``EDGE_FLOOR`` count for nothing, stronger ones for what exceeds it."""
    gx = cv2.Sobel(gray_crop, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray_crop, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.maximum(np.hypot(gx, gy) - EDGE_FLOOR, 0.0) * weight
    angle = np.mod(np.arctan2(gy, gx), np.pi)
    o0, o1, of = _soft_bins(angle, ORIENTATION_BINS, 0.0, float(np.pi), circular=True)
    rows = np.arange(CROP_SIDE) * EDGE_GRID // CROP_SIDE
    cell_index = (rows[:, None] * EDGE_GRID + rows[None, :]) * ORIENTATION_BINS
    size = EDGE_GRID * EDGE_GRID * ORIENTATION_BINS
    hist = np.bincount(
        (cell_index + o0).ravel(), weights=(magnitude * (1.0 - of)).ravel(), minlength=size
    ) + np.bincount((cell_index + o1).ravel(), weights=(magnitude * of).ravel(), minlength=size)
    return hist.astype(np.float32)


_SPECTRUM_CACHE: dict[str, tuple[npt.NDArray[np.intp], FloatArray]] = {}


def _spectrum_bins() -> tuple[npt.NDArray[np.intp], FloatArray]:
    if "bins" not in _SPECTRUM_CACHE:
        fy = np.fft.fftfreq(CROP_SIDE)[:, None]
        fx = np.fft.rfftfreq(CROP_SIDE)[None, :]
        radius = np.hypot(fy, fx) / 0.5
        angle = np.mod(np.arctan2(fy, fx), np.pi) / np.pi
        r_bin = np.clip(np.floor(np.sqrt(radius) * SPECTRUM_RADII), 0, SPECTRUM_RADII)
        a_bin = np.minimum(np.floor(angle * SPECTRUM_ANGLES), SPECTRUM_ANGLES - 1)
        valid = (radius > 0) & (r_bin < SPECTRUM_RADII)
        index = np.where(valid, r_bin * SPECTRUM_ANGLES + a_bin, SPECTRUM_RADII * SPECTRUM_ANGLES)
        _SPECTRUM_CACHE["bins"] = (index.astype(np.intp), valid.astype(np.float32))
    return _SPECTRUM_CACHE["bins"]


def _spectrum(gray_crop: FloatArray, mask: FloatArray) -> FloatArray:
    """Log power of the garment's luminance in radial x orientation frequency bands."""
    window = cv2.GaussianBlur(mask, (0, 0), 2.0)
    power = np.abs(np.fft.rfft2(gray_crop * window)) ** 2
    index, valid = _spectrum_bins()
    size = SPECTRUM_RADII * SPECTRUM_ANGLES
    total = np.bincount(index.ravel(), weights=(power * valid).ravel(), minlength=size + 1)
    count = np.bincount(index.ravel(), minlength=size + 1)
    band = np.log1p(total[:size] / np.maximum(count[:size], 1))
    centred: FloatArray = (band - band.mean()).astype(np.float32)
    return centred


def _shape(mask: npt.NDArray[np.uint8], box_size: tuple[int, int]) -> FloatArray:
    w, h = box_size
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = np.zeros(RADIAL_DIRECTIONS + 4, dtype=np.float32)
    if not contours:
        return out
    contour = max(contours, key=cv2.contourArea)
    moments = cv2.moments(contour)
    if moments["m00"] <= 0:
        return out
    cx, cy = moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]
    points = contour.reshape(-1, 2).astype(np.float32)
    dx, dy = points[:, 0] - cx, points[:, 1] - cy
    # Distances are measured in the box's own scale so the profile is aspect-free.
    distance = np.hypot(dx / max(w, 1), dy / max(h, 1))
    direction = ((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * RADIAL_DIRECTIONS).astype(np.intp)
    direction = np.clip(direction, 0, RADIAL_DIRECTIONS - 1)
    radial = np.zeros(RADIAL_DIRECTIONS, dtype=np.float32)
    np.maximum.at(radial, direction, distance.astype(np.float32))
    mean = float(radial[radial > 0].mean()) if np.any(radial > 0) else 1.0
    radial = (np.where(radial > 0, radial / mean, 1.0) - 1.0).astype(np.float32)
    out[:RADIAL_DIRECTIONS] = radial
    out[RADIAL_DIRECTIONS] = float(np.log(max(h, 1) / max(w, 1)))
    out[RADIAL_DIRECTIONS + 1] = float(moments["m00"]) / max(w * h, 1) - 0.6
    hu = cv2.HuMoments(moments).ravel()[:2]
    out[RADIAL_DIRECTIONS + 2 :] = (
        -np.sign(hu) * np.log10(np.abs(hu) + 1e-12) - np.array([0.7, 2.0])
    ) / 2.0
    return out


def _normalise(block: FloatArray, weight: float) -> FloatArray:
    norm = float(np.linalg.norm(block))
    if norm < 1e-9:
        return np.zeros_like(block)
    result: FloatArray = (block * (weight / norm)).astype(np.float32)
    return result


def describe_blocks(image: Image.Image) -> dict[str, FloatArray]:
    """The descriptor's blocks of one image (see the module docstring), each before its
    normalisation and weight."""
    work = _work_image(to_rgb_array(image))
    lab = np.asarray(cv2.cvtColor(work, cv2.COLOR_RGB2Lab), dtype=np.uint8)
    mask = foreground_mask(lab)
    x, y, w, h = cv2.boundingRect(mask)
    margin = max(1, round(0.03 * max(w, h)))
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(mask.shape[1], x + w + margin), min(mask.shape[0], y + h + margin)

    lab_f = lab.astype(np.float32)
    lab_f[..., 0] *= 100.0 / 255.0
    lab_f[..., 1:] -= 128.0
    mask_f = mask.astype(np.float32)
    inside = mask.astype(bool)

    garment_lab = lab_f[inside]
    colour = np.sqrt(_colour_histogram(garment_lab, np.ones(len(garment_lab), np.float32)))
    lab_histogram = np.sqrt(_soft_grid(garment_lab, LAB_GRID))
    relative = np.sqrt(_soft_grid(_relative_colour(work[inside].astype(np.float32)), RELATIVE_GRID))

    size = (CROP_SIDE, CROP_SIDE)
    crop_gray = np.asarray(
        cv2.resize(lab_f[y0:y1, x0:x1, 0], size, interpolation=cv2.INTER_AREA), dtype=np.float32
    )
    crop_mask = np.asarray(
        cv2.resize(mask_f[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA), dtype=np.float32
    )
    texture = np.sqrt(_texture(crop_gray, (crop_mask > 0.5).astype(np.float32)))
    weight_mask = np.asarray(cv2.dilate(crop_mask, np.ones((5, 5), np.uint8)), dtype=np.float32)
    edges = np.sqrt(_edges(crop_gray, weight_mask))
    values = crop_gray[weight_mask > 0.5]
    if values.size:  # contrast-normalised: other light changes little below
        crop_gray = (crop_gray - float(values.mean())) / (float(values.std()) + 5.0)
    crop_gray = crop_gray.astype(np.float32)
    pattern = cv2.resize(
        crop_gray * crop_mask, (PATTERN_SIDE, PATTERN_SIDE), interpolation=cv2.INTER_AREA
    ).reshape(-1)

    return {
        "colour": colour,
        "lab": lab_histogram,
        "relative": relative,
        "texture": texture,
        "edges": edges,
        "shape": _shape(mask, (w, h)),
        "pattern": pattern.astype(np.float32),
        "spectrum": _spectrum(crop_gray, crop_mask),
    }


def describe(image: Image.Image) -> FloatArray:
    """The descriptor of one image, blocks weighted, not yet L2-normalised as a whole."""
    blocks = describe_blocks(image)
    vector = np.concatenate(
        [_normalise(blocks[name].astype(np.float32), BLOCK_WEIGHTS[name]) for name in BLOCK_DIMS]
    )
    return vector.astype(np.float32)


class DescriptorEncoder(Encoder):
    """The named default encoder (no weights): see the module docstring for the layout."""

    name = "descriptor"
    version = "3"
    is_default = True
    dim = DIM

    def _load(self) -> None:
        # Nothing to read; keep OpenCV from spawning more threads than the worker has.
        cv2.setNumThreads(1)

    def _encode(self, images: Sequence[Image.Image]) -> FloatArray:
        return np.stack([describe(image) for image in images]).astype(np.float32)
