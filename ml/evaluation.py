"""Retrieval-quality evaluation: pure metric functions and the runners built on them.

The metrics take plain arrays (vectors, labels, ground-truth indices) and return numbers,
so they can be checked on constructed cases. The runners load labelled photos, make the
consumer-like copies, encode with any :class:`ml.base.Encoder` and return typed reports;
the bench tests and the ``evaluate_retrieval`` command call them.

Nearest neighbours are exact (a dot product on L2-normalised vectors, i.e. cosine), so
what is measured is the encoder, not the index.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageEnhance, ImageOps

from ml.base import Encoder
from ml.types import Box, GarmentCategory

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.intp]

#: The fine classes of the clothing-small photos and the garment category each maps onto;
#: ``hat`` and ``shoes`` are not garments of the four and are left out.
CLOTHING_SMALL_CATEGORIES: Final[dict[str, GarmentCategory]] = {
    "t-shirt": "top",
    "shirt": "top",
    "longsleeve": "top",
    "pants": "bottom",
    "shorts": "bottom",
    "skirt": "bottom",
    "outwear": "outer",
    "dress": "dress",
}
IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png", ".webp")


# -- pure metrics ------------------------------------------------------------------------


def nearest_neighbours(
    queries: FloatArray,
    gallery: FloatArray,
    k: int,
    *,
    exclude_self: bool = False,
    block: int = 1024,
) -> IntArray:
    """Indices (n_queries, k) of each query's k most cosine-similar gallery rows, best first.

    Rows must be L2-normalised. ``exclude_self``: queries are the gallery itself and a row
    is never its own neighbour (leave-one-out). Ties break by the lower index.
    """
    n = queries.shape[0]
    k = min(k, gallery.shape[0] - (1 if exclude_self else 0))
    result = np.zeros((n, max(k, 0)), dtype=np.intp)
    if k <= 0:
        return result
    for start in range(0, n, block):
        stop = min(n, start + block)
        scores = queries[start:stop] @ gallery.T
        if exclude_self:
            rows = np.arange(stop - start)
            scores[rows, rows + start] = -np.inf
        # Stable sort on the negated scores keeps the lower index first among ties.
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        result[start:stop] = order
    return result


def precision_at_k(
    neighbours: IntArray, labels: Sequence[str], query_labels: Sequence[str]
) -> FloatArray:
    """Per query: the share of its neighbours whose label equals the query's label."""
    label_array = np.asarray(labels, dtype=object)
    query_array = np.asarray(query_labels, dtype=object)
    if neighbours.shape[1] == 0:
        return np.zeros(len(query_labels), dtype=np.float32)
    hits = label_array[neighbours] == query_array[:, None]
    result: FloatArray = hits.mean(axis=1).astype(np.float32)
    return result


def mean_by_group(values: Sequence[float] | FloatArray, groups: Sequence[str]) -> dict[str, float]:
    """The mean of ``values`` per group, groups in first-seen order."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for value, group in zip(values, groups, strict=True):
        sums[group] = sums.get(group, 0.0) + float(value)
        counts[group] = counts.get(group, 0) + 1
    return {group: sums[group] / counts[group] for group in sums}


def neighbour_confusion(
    neighbours: IntArray, labels: Sequence[str], classes: Sequence[str]
) -> FloatArray:
    """Row i, column j: the share of the neighbours of class-i queries that are of class j.

    The queries are the gallery itself (leave-one-out). Rows of classes with no query are 0.
    """
    index = {name: i for i, name in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=np.float64)
    for row, label in enumerate(labels):
        for neighbour in neighbours[row]:
            matrix[index[label], index[labels[int(neighbour)]]] += 1.0
    totals = matrix.sum(axis=1, keepdims=True)
    result: FloatArray = np.divide(
        matrix, totals, out=np.zeros_like(matrix), where=totals > 0
    ).astype(np.float32)
    return result


def instance_top_k(neighbours: IntArray, truth: Sequence[int] | IntArray, k: int) -> float:
    """Share of queries whose true gallery index is among their first ``k`` neighbours."""
    truth_array = np.asarray(truth, dtype=np.intp)
    if truth_array.size == 0:
        return 0.0
    hits = (neighbours[:, :k] == truth_array[:, None]).any(axis=1)
    return float(hits.mean())


def instance_hits(
    neighbours: IntArray, truth: Sequence[int] | IntArray, k: int
) -> npt.NDArray[np.bool_]:
    """Per query: whether its true gallery index is among its first ``k`` neighbours."""
    truth_array = np.asarray(truth, dtype=np.intp)
    hits: npt.NDArray[np.bool_] = (neighbours[:, :k] == truth_array[:, None]).any(axis=1)
    return hits


# -- reports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryPrecisionReport:
    """Leave-one-out precision@k: a neighbour counts when its category equals the query's."""

    encoder: str
    k: int
    n: int
    precision: float
    by_class: dict[str, float]
    by_category: dict[str, float]
    #: precision@k where a neighbour counts only when its fine class equals the query's.
    fine_precision: float
    classes: tuple[str, ...]
    #: classes x classes, rows: the query's class, the share of its neighbours per class.
    confusion: tuple[tuple[float, ...], ...]
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class InstanceReport:
    """Each query (a changed copy of a gallery image) against the whole gallery."""

    encoder: str
    n_queries: int
    n_gallery: int
    top1: float
    top5: float
    top1_by_class: dict[str, float]
    top1_by_category: dict[str, float]


# -- data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelledPhoto:
    path: Path
    label: str
    category: str


def clothing_small_photos(
    root: Path,
    *,
    splits: Iterable[str] = ("train", "validation"),
    limit_per_class: int | None = None,
) -> list[LabelledPhoto]:
    """The photos of ``root/<split>/<class>/``, classes mapped onto the four categories.

    Sorted by split, class and file name, so every run sees the same order.
    """
    photos: list[LabelledPhoto] = []
    for split in splits:
        for label, category in sorted(CLOTHING_SMALL_CATEGORIES.items()):
            folder = root / split / label
            if not folder.is_dir():
                continue
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            photos.extend(LabelledPhoto(p, label, category) for p in files[:limit_per_class])
    return photos


def load_rgb(path: Path) -> Image.Image:
    with Image.open(path) as image:
        upright = ImageOps.exif_transpose(image)
        return upright.convert("RGB")


def encode_in_batches(
    encoder: Encoder, images: Sequence[Image.Image], batch_size: int = 64
) -> FloatArray:
    parts = [
        encoder.encode_array(images[start : start + batch_size])
        for start in range(0, len(images), batch_size)
    ]
    if not parts:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32)


# -- consumer-like copies ----------------------------------------------------------------


def _new_background(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A surface the photo was not taken on: plain, striped, checked or noisy, random colours."""
    w, h = size
    base = rng.integers(0, 256, size=3)
    other = rng.integers(0, 256, size=3)
    kind = int(rng.integers(0, 4))
    canvas = np.empty((h, w, 3), dtype=np.uint8)
    canvas[:] = base
    if kind == 1:
        period = int(rng.integers(8, 30))
        ys = np.arange(h)[:, None] + np.zeros((1, w), dtype=np.intp)
        canvas[(ys // period) % 2 == 1] = other
    elif kind == 2:
        period = int(rng.integers(10, 40))
        ys, xs = np.mgrid[0:h, 0:w]
        canvas[((ys // period) + (xs // period)) % 2 == 1] = other
    elif kind == 3:
        coarse = rng.normal(0.0, 25.0, size=(h // 4 + 1, w // 4 + 1)).astype(np.float32)
        noise = np.asarray(
            cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR), dtype=np.float32
        )
        canvas = np.clip(canvas.astype(np.float32) + noise[..., None], 0, 255).astype(np.uint8)
    return Image.fromarray(canvas)


def garment_alpha(rgb: npt.NDArray[np.uint8], *, seed: int = 0) -> FloatArray:
    """A soft garment mask (h, w) in 0..1 by GrabCut, for cutting a garment onto a new surface.

    GrabCut (5 iterations, started from a rectangle 6% inside the frame) runs on a copy
    whose longer side is 160 px; the mask is scaled back up and feathered. This is the
    evaluation's own segmentation, slower and better than the descriptor's cheap one and
    independent of it. A result covering under 5% or over 97% of the frame gives the
    whole frame (the background then stays the photo's own). Holes are filled and the mask
    dilated by 1.5% of the longer side.
    """
    h, w = rgb.shape[:2]
    scale = 160.0 / max(h, w)
    small = cv2.resize(
        rgb, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    sh, sw = small.shape[:2]
    mask = np.zeros((sh, sw), dtype=np.uint8)
    inset_x, inset_y = max(1, round(sw * 0.06)), max(1, round(sh * 0.06))
    rect = (inset_x, inset_y, sw - 2 * inset_x, sh - 2 * inset_y)
    background_model = np.zeros((1, 65), dtype=np.float64)
    foreground_model = np.zeros((1, 65), dtype=np.float64)
    cv2.setRNGSeed(seed)
    cv2.grabCut(
        cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
        mask,
        rect,
        background_model,
        foreground_model,
        5,
        cv2.GC_INIT_WITH_RECT,
    )
    raw = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    # Holes filled and a small margin kept: a garment with a pale pattern or a print must
    # not lose pieces to the new surface (a little of the old one may show at the edge).
    contours, _ = cv2.findContours(raw, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(raw)
    keep = [c for c in contours if cv2.contourArea(c) >= 0.02 * sh * sw]
    cv2.drawContours(filled, keep, -1, 1, thickness=-1)
    margin = max(1, round(0.015 * max(sh, sw)))
    filled = cv2.dilate(filled, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))
    garment = filled.astype(np.float32)
    if not 0.05 <= float(garment.mean()) <= 0.97:
        return np.ones((h, w), dtype=np.float32)
    alpha = cv2.resize(garment, (w, h), interpolation=cv2.INTER_LINEAR)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(1.0, 0.004 * max(h, w)))
    result: FloatArray = np.clip(alpha, 0.0, 1.0).astype(np.float32)
    return result


def consumer_copy(
    image: Image.Image, rng: np.random.Generator, *, alpha: FloatArray | None = None
) -> Image.Image:
    """A copy of ``image`` as a consumer might photograph the same garment again.

    In order: other light (brightness x0.75-1.3, contrast x0.8-1.2, a colour cast of up to
    8% per channel); a new background (the garment, cut out by :func:`garment_alpha` or
    the given ``alpha``, scaled to 80-100%, is laid on a plain, striped, checked or noisy
    surface of random colours, at a random offset); a small rotation (-10..10 degrees,
    corners filled with that surface's colour); a crop that keeps 85-97% of each side;
    JPEG at quality 40.
    """
    rgb = image.convert("RGB")
    if alpha is None:
        alpha = garment_alpha(np.asarray(rgb, dtype=np.uint8))
    rgb = ImageEnhance.Brightness(rgb).enhance(float(rng.uniform(0.75, 1.3)))
    rgb = ImageEnhance.Contrast(rgb).enhance(float(rng.uniform(0.8, 1.2)))
    cast = rng.uniform(0.92, 1.08, size=3)
    lit = np.clip(np.asarray(rgb, dtype=np.float32) * cast, 0, 255)

    w, h = rgb.size
    scale = float(rng.uniform(0.80, 1.0))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(lit, (sw, sh), interpolation=cv2.INTER_AREA)
    small_alpha = cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_LINEAR)[..., None]
    canvas = np.asarray(_new_background((w, h), rng), dtype=np.float32).copy()
    ox = int(rng.integers(0, w - sw + 1))
    oy = int(rng.integers(0, h - sh + 1))
    region = canvas[oy : oy + sh, ox : ox + sw]
    canvas[oy : oy + sh, ox : ox + sw] = small_alpha * small + (1.0 - small_alpha) * region
    composed = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))

    angle = float(rng.uniform(-10.0, 10.0))
    fill = tuple(int(v) for v in np.asarray(composed)[0, 0])
    rotated = composed.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=fill)

    keep_w, keep_h = float(rng.uniform(0.85, 0.97)), float(rng.uniform(0.85, 0.97))
    cw, ch = round(w * keep_w), round(h * keep_h)
    cx = int(rng.integers(0, w - cw + 1))
    cy = int(rng.integers(0, h - ch + 1))
    cropped = rotated.crop((cx, cy, cx + cw, cy + ch))

    buffer = io.BytesIO()
    cropped.save(buffer, format="JPEG", quality=40)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


# -- runners -----------------------------------------------------------------------------


def evaluate_category_precision(
    vectors: FloatArray,
    labels: Sequence[str],
    categories: Sequence[str],
    *,
    k: int = 10,
    encoder: str = "",
    classes: Sequence[str] | None = None,
) -> CategoryPrecisionReport:
    """Leave-one-out category precision@k over already encoded photos."""
    neighbours = nearest_neighbours(vectors, vectors, k, exclude_self=True)
    per_query = precision_at_k(neighbours, categories, categories)
    fine = precision_at_k(neighbours, labels, labels)
    class_order = tuple(classes) if classes is not None else tuple(dict.fromkeys(labels))
    confusion = neighbour_confusion(neighbours, labels, class_order)
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return CategoryPrecisionReport(
        encoder=encoder,
        k=k,
        n=len(labels),
        precision=float(per_query.mean()) if len(labels) else 0.0,
        by_class=mean_by_group(per_query, labels),
        by_category=mean_by_group(per_query, categories),
        fine_precision=float(fine.mean()) if len(labels) else 0.0,
        classes=class_order,
        confusion=tuple(tuple(float(v) for v in row) for row in confusion),
        counts=counts,
    )


def evaluate_instance_retrieval(
    query_vectors: FloatArray,
    gallery_vectors: FloatArray,
    truth: Sequence[int],
    labels: Sequence[str],
    categories: Sequence[str],
    *,
    encoder: str = "",
) -> InstanceReport:
    """Top-1/top-5 of queries whose true match is ``truth[i]`` in the gallery.

    ``labels``/``categories`` are the queries' (for the per-class breakdown).
    """
    neighbours = nearest_neighbours(query_vectors, gallery_vectors, 5)
    top1 = instance_hits(neighbours, truth, 1).astype(np.float32)
    return InstanceReport(
        encoder=encoder,
        n_queries=len(truth),
        n_gallery=int(gallery_vectors.shape[0]),
        top1=float(top1.mean()) if len(truth) else 0.0,
        top5=instance_top_k(neighbours, truth, 5),
        top1_by_class=mean_by_group(top1, labels),
        top1_by_category=mean_by_group(top1, categories),
    )


@dataclass(frozen=True)
class PhotoEvaluation:
    category: CategoryPrecisionReport
    instance: InstanceReport
    images_per_second: float


@dataclass(frozen=True)
class PhotoSet:
    """Decoded labelled photos and one consumer-like copy of each (made once, shared by
    every encoder evaluated on them)."""

    images: list[Image.Image]
    copies: list[Image.Image]
    labels: list[str]
    categories: list[str]


def photo_set(
    photos: Sequence[LabelledPhoto],
    *,
    seed: int = 0,
    loader: Callable[[Path], Image.Image] = load_rgb,
) -> PhotoSet:
    """Decode ``photos`` and make each one's consumer copy (seeded per photo)."""
    images = [loader(photo.path) for photo in photos]
    copies = [
        consumer_copy(image, np.random.default_rng([seed, index]))
        for index, image in enumerate(images)
    ]
    return PhotoSet(
        images, copies, [photo.label for photo in photos], [photo.category for photo in photos]
    )


def evaluate_photos(encoder: Encoder, photos: PhotoSet, *, k: int = 10) -> PhotoEvaluation:
    """Both photo evaluations for one encoder.

    Category precision@k, leave-one-out over the photos; then each photo's consumer copy
    is queried against all of the originals (instance top-1 / top-5).
    """
    import time

    encoder.load()
    started = time.perf_counter()
    vectors = encode_in_batches(encoder, photos.images)
    elapsed = time.perf_counter() - started
    category = evaluate_category_precision(
        vectors,
        photos.labels,
        photos.categories,
        k=k,
        encoder=encoder.encoder_id,
        classes=[c for c in CLOTHING_SMALL_CATEGORIES if c in set(photos.labels)],
    )
    query_vectors = encode_in_batches(encoder, photos.copies)
    instance = evaluate_instance_retrieval(
        query_vectors,
        vectors,
        list(range(len(photos.images))),
        photos.labels,
        photos.categories,
        encoder=encoder.encoder_id,
    )
    rate = len(photos.images) / elapsed if elapsed > 0 else math.inf
    return PhotoEvaluation(category, instance, rate)


@dataclass(frozen=True)
class SyntheticEvaluation:
    """Worn scene (the target garment cut by its ground-truth box) -> its product shot."""

    all_products: InstanceReport
    #: the same queries against the products of their own category only (the service
    #: keeps one index per category).
    own_category: InstanceReport
    n_products: int
    scenes_per_product: int


def synthetic_crop(image: Image.Image, box: Box, *, pad: float = 0.05) -> Image.Image:
    """The garment's box, grown by ``pad`` of its size on each side (as a client's tap or a
    detector's box would be slightly loose), clipped to the image."""
    grow_x, grow_y = box.width * pad, box.height * pad
    loose = Box(box.x1 - grow_x, box.y1 - grow_y, box.x2 + grow_x, box.y2 + grow_y)
    x1, y1, x2, y2 = loose.clip(image.width, image.height).as_int_tuple()
    return image.crop((x1, y1, max(x2, x1 + 1), max(y2, y1 + 1)))


def evaluate_synthetic(
    encoder: Encoder,
    *,
    n_products: int = 1000,
    scenes_per_product: int = 1,
    seed: int = 0,
    size: int = 256,
) -> SyntheticEvaluation:
    """Instance retrieval on the synthetic renderer (:mod:`ml.synthetic`).

    ``n_products`` products are drawn with :func:`ml.synthetic.sample_catalog`; the
    gallery is their product shots. Each query is a worn scene of one product (scenes
    ``0 .. scenes_per_product - 1``), cut by the target garment's ground-truth box.
    """
    from ml.synthetic import render_product_shot, render_worn, sample_catalog

    specs = sample_catalog(n_products, seed=seed)
    gallery_images = [render_product_shot(spec, size=size).image for spec in specs]
    queries: list[Image.Image] = []
    truth: list[int] = []
    for index, spec in enumerate(specs):
        for scene in range(scenes_per_product):
            worn = render_worn(spec, size=size, scene=scene)
            target = next((g for g in worn.garments if g.is_target), None)
            if target is None:  # hidden in this scene: nothing a user could tap
                continue
            queries.append(synthetic_crop(worn.image, target.box))
            truth.append(index)
    gallery = encode_in_batches(encoder, gallery_images)
    query_vectors = encode_in_batches(encoder, queries)
    categories = [spec.category for spec in specs]
    query_categories = [categories[i] for i in truth]
    query_shapes = [specs[i].shape for i in truth]
    everything = evaluate_instance_retrieval(
        query_vectors,
        gallery,
        truth,
        query_shapes,
        query_categories,
        encoder=encoder.encoder_id,
    )
    # Within the category: mask other categories' products out of the similarity.
    category_array = np.asarray(categories, dtype=object)
    scores = query_vectors @ gallery.T
    scores[category_array[None, :] != np.asarray(query_categories, dtype=object)[:, None]] = -np.inf
    order = np.argsort(-scores, axis=1, kind="stable")[:, :5]
    top1 = instance_hits(order, truth, 1).astype(np.float32)
    own = InstanceReport(
        encoder=encoder.encoder_id,
        n_queries=len(truth),
        n_gallery=len(specs),
        top1=float(top1.mean()) if truth else 0.0,
        top5=instance_top_k(order, truth, 5),
        top1_by_class=mean_by_group(top1, query_shapes),
        top1_by_category=mean_by_group(top1, query_categories),
    )
    return SyntheticEvaluation(everything, own, len(specs), scenes_per_product)


# -- the baseline ------------------------------------------------------------------------


def hog(gray: npt.NDArray[np.float32], *, cell: int = 8, bins: int = 9) -> FloatArray:
    """Dalal-Triggs HOG of a grey image: unsigned orientations in ``bins`` bins per
    ``cell`` x ``cell`` cell, 2 x 2-cell blocks at a one-cell stride, L2-Hys normalised."""
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=1)
    magnitude = np.hypot(gx, gy)
    position = np.mod(np.arctan2(gy, gx), np.pi) / np.pi * bins - 0.5
    lower = np.floor(position)
    frac = position - lower
    low = lower.astype(np.intp) % bins
    high = (low + 1) % bins
    rows, columns = gray.shape[0] // cell, gray.shape[1] // cell
    ys = np.minimum(np.arange(gray.shape[0]) // cell, rows - 1)
    xs = np.minimum(np.arange(gray.shape[1]) // cell, columns - 1)
    cell_index = (ys[:, None] * columns + xs[None, :]) * bins
    size = rows * columns * bins
    cells = (
        np.bincount((cell_index + low).ravel(), (magnitude * (1 - frac)).ravel(), size)
        + np.bincount((cell_index + high).ravel(), (magnitude * frac).ravel(), size)
    ).reshape(rows, columns, bins)
    blocks = []
    for r in range(rows - 1):
        for c in range(columns - 1):
            block = cells[r : r + 2, c : c + 2].ravel()
            block = block / np.sqrt(float(np.sum(block**2)) + 1e-6)
            block = np.minimum(block, 0.2)
            blocks.append(block / np.sqrt(float(np.sum(block**2)) + 1e-6))
    return np.concatenate(blocks).astype(np.float32)


class HogColourBaselineEncoder(Encoder):
    """The plain baseline: HOG of the whole image + an HSV colour histogram, no background
    handling. HOG of the 64 x 64 grey image (8 px cells, 9 bins, 2 x 2-cell blocks:
    7 x 7 x 36 = 1,764 dims) and an 8 x 4 x 4 HSV histogram (128 dims) of the whole
    image, each L2-normalised, weighted equally."""

    name = "hog-colour-baseline"
    version = "1"
    dim = 1764 + 128

    def _load(self) -> None:
        return None

    def _encode(self, images: Sequence[Image.Image]) -> FloatArray:
        rows = []
        for image in images:
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
            small = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_AREA)
            gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
            hsv = cv2.cvtColor(
                cv2.resize(rgb, (128, 128), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2HSV
            )
            histogram = cv2.calcHist(
                [hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]
            ).ravel()
            parts = [hog(gray), histogram.astype(np.float32)]
            rows.append(np.concatenate([p / max(float(np.linalg.norm(p)), 1e-9) for p in parts]))
        return np.stack(rows).astype(np.float32)


def format_category_report(report: CategoryPrecisionReport) -> str:
    """A plain-text table: per class, per category, and the neighbour confusion."""
    lines = [
        f"{report.encoder}: category precision@{report.k} = {report.precision:.3f} "
        f"(fine-class precision@{report.k} = {report.fine_precision:.3f}, n = {report.n})",
        "  per class:    " + "  ".join(f"{c} {v:.3f}" for c, v in report.by_class.items()),
        "  per category: " + "  ".join(f"{c} {v:.3f}" for c, v in report.by_category.items()),
        f"  neighbour confusion (row: query class; share of its top-{report.k} per class):",
        "    " + " ".join(f"{c[:7]:>7}" for c in ["", *report.classes]),
    ]
    for name, row in zip(report.classes, report.confusion, strict=True):
        lines.append("    " + f"{name[:7]:>7} " + " ".join(f"{v:7.2f}" for v in row))
    return "\n".join(lines)


def format_instance_report(report: InstanceReport, title: str = "instance") -> str:
    return "\n".join(
        [
            f"{report.encoder}: {title} top-1 = {report.top1:.3f}, top-5 = {report.top5:.3f} "
            f"({report.n_queries} queries, gallery {report.n_gallery})",
            "  top-1 per class:    "
            + "  ".join(f"{c} {v:.3f}" for c, v in report.top1_by_class.items()),
            "  top-1 per category: "
            + "  ".join(f"{c} {v:.3f}" for c, v in report.top1_by_category.items()),
        ]
    )


def as_mapping(report: CategoryPrecisionReport | InstanceReport) -> Mapping[str, object]:
    from dataclasses import asdict

    return asdict(report)
