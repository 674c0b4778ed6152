"""A labelled query set against a gallery (the catalog's crops): the numbers
``evaluate_retrieval`` reports, computed from plain arrays.

- instance matches: a query naming a product is a hit at k when that product is among
  the first k *products* of its exact neighbours (a product's crops count once, at its
  best crop's rank);
- category precision@k: the share of a query's k exact nearest crops (over every
  category) whose category is the query's;
- index recall@k: the share of the exact k nearest crops that the approximate index
  returned among its k (how much the Annoy index loses against exact search).

Exact search is :func:`ml.evaluation.nearest_neighbours` (cosine on L2-normalised rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ml.evaluation import mean_by_group, nearest_neighbours

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.intp]

#: Crops looked at to rank products for the instance metrics (products have a few crops).
PRODUCT_DEPTH = 50


@dataclass(frozen=True)
class Latency:
    """Milliseconds per query: median, 95th percentile, mean."""

    p50: float
    p95: float
    mean: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency | None:
        if not seconds:
            return None
        ms = np.asarray(seconds, dtype=np.float64) * 1000.0
        return cls(float(np.percentile(ms, 50)), float(np.percentile(ms, 95)), float(ms.mean()))


@dataclass(frozen=True)
class RetrievalEvaluation:
    n_queries: int
    n_gallery: int
    k: int
    #: queries that name a product; ``missing``: of those, products not in the gallery
    #: (they count as misses).
    n_instance: int
    missing: int
    top1: float | None
    top5: float | None
    #: queries that name a category
    n_category: int
    precision_at_k: float | None
    precision_by_category: dict[str, float]
    #: None when no index results were given
    index_recall: float | None
    latency_ms: dict[str, Latency | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def products_in_order(neighbours: Sequence[int], products: Sequence[str]) -> list[str]:
    """Products of ranked gallery rows, each once, in the order of its best row."""
    return list(dict.fromkeys(products[int(i)] for i in neighbours))


def index_recall(exact: IntArray, approximate: Sequence[Sequence[int]]) -> float | None:
    """Mean over queries of |approximate ∩ exact| / |exact| (rows compared as sets)."""
    if len(approximate) == 0:
        return None
    shares = []
    for row, found in zip(exact, approximate, strict=True):
        wanted = {int(i) for i in row}
        if wanted:
            shares.append(len(wanted & {int(i) for i in found}) / len(wanted))
    return float(np.mean(shares)) if shares else None


def evaluate_query_set(
    queries: FloatArray,
    gallery: FloatArray,
    *,
    gallery_products: Sequence[str],
    gallery_categories: Sequence[str],
    query_products: Sequence[str | None],
    query_categories: Sequence[str | None],
    k: int = 10,
    index_results: Sequence[Sequence[int]] | None = None,
    latency_seconds: dict[str, Sequence[float]] | None = None,
) -> RetrievalEvaluation:
    """The metrics of the module docstring.

    Args:
        queries: (n, dim) L2-normalised query vectors.
        gallery: (m, dim) L2-normalised gallery vectors (one row per crop).
        gallery_products / gallery_categories: per gallery row.
        query_products / query_categories: what each query should find (``None``: not
            judged on that metric).
        index_results: per query, the gallery rows the index returned for it (top ``k``).
        latency_seconds: stage name → per-query seconds, summarised as :class:`Latency`.
    """
    n = queries.shape[0]
    depth = max(k, PRODUCT_DEPTH)
    neighbours = nearest_neighbours(queries, gallery, depth) if n else np.zeros((0, 0), np.intp)
    known_products = set(gallery_products)
    hits1: list[float] = []
    hits5: list[float] = []
    missing = 0
    precision: list[float] = []
    precision_groups: list[str] = []
    for i in range(n):
        expected = query_products[i]
        if expected is not None:
            if expected not in known_products:
                missing += 1
            ranked = products_in_order(neighbours[i], gallery_products)
            hits1.append(float(expected in ranked[:1]))
            hits5.append(float(expected in ranked[:5]))
        category = query_categories[i]
        if category is not None:
            top = neighbours[i, :k]
            share = (
                float(np.mean([gallery_categories[int(j)] == category for j in top]))
                if len(top)
                else 0.0
            )
            precision.append(share)
            precision_groups.append(category)
    recall = None
    if index_results is not None:
        recall = index_recall(neighbours[:, :k], index_results)
    return RetrievalEvaluation(
        n_queries=n,
        n_gallery=int(gallery.shape[0]),
        k=k,
        n_instance=len(hits1),
        missing=missing,
        top1=float(np.mean(hits1)) if hits1 else None,
        top5=float(np.mean(hits5)) if hits5 else None,
        n_category=len(precision),
        precision_at_k=float(np.mean(precision)) if precision else None,
        precision_by_category=mean_by_group(precision, precision_groups),
        index_recall=recall,
        latency_ms={name: Latency.of(values) for name, values in (latency_seconds or {}).items()},
    )


def format_evaluation(report: RetrievalEvaluation) -> str:
    """A plain-text table of the report."""

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:6.1f}%"

    lines = [
        f"{'metric':<32} {'value':>8}  n",
        f"{'instance top-1':<32} {pct(report.top1):>8}  {report.n_instance}"
        + (f" ({report.missing} not in the catalog)" if report.missing else ""),
        f"{'instance top-5':<32} {pct(report.top5):>8}  {report.n_instance}",
        f"{f'category precision@{report.k}':<32} {pct(report.precision_at_k):>8}  "
        f"{report.n_category}",
    ]
    for category, value in report.precision_by_category.items():
        lines.append(f"{f'  {category}':<32} {pct(value):>8}")
    lines.append(
        f"{f'index recall@{report.k} vs exact':<32} {pct(report.index_recall):>8}  "
        f"{report.n_queries if report.index_recall is not None else 0}"
    )
    for stage, latency in report.latency_ms.items():
        if latency is not None:
            lines.append(
                f"{f'latency {stage} (ms p50/p95)':<32} {latency.p50:8.2f}  {latency.p95:.2f}"
            )
    lines.append(f"gallery: {report.n_gallery} crops, queries: {report.n_queries}")
    return "\n".join(lines)
