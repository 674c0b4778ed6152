"""Query-set metrics of evaluate_retrieval on constructed vectors."""

from __future__ import annotations

import numpy as np
import pytest

from ml.retrieval_evaluation import (
    Latency,
    evaluate_query_set,
    format_evaluation,
    index_recall,
    products_in_order,
)


def unit(*rows: list[float]) -> np.ndarray:
    array = np.asarray(rows, dtype=np.float32)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


# Gallery: product A has two crops (rows 0, 1), B one (2), C one (3, a bottom).
GALLERY = unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 1])
PRODUCTS = ["A", "A", "B", "C"]
CATEGORIES = ["top", "top", "top", "bottom"]


def test_known_numbers_on_a_constructed_case():
    queries = unit(
        [1, 0.05, 0],  # finds A (twice) first: instance hit; neighbours top, top, top
        [0.1, 1, 0],  # finds B first
        [0.6, 0.0, 0.8],  # wants B but C, then A come first: top-1 miss, top-5 hit
        [0, 0.1, 1],  # a bottom query judged on category only
    )
    report = evaluate_query_set(
        queries,
        GALLERY,
        gallery_products=PRODUCTS,
        gallery_categories=CATEGORIES,
        query_products=["A", "B", "B", None],
        query_categories=["top", "top", None, "bottom"],
        k=2,
        index_results=[[0, 1], [2, 3], [3, 0], [2, 3]],
        latency_seconds={"encode": [0.010, 0.020, 0.030, 0.040]},
    )
    assert (report.n_instance, report.n_category) == (3, 3)
    assert report.top1 == pytest.approx(2 / 3)
    assert report.top5 == pytest.approx(1.0)
    # top query 1: rows 0, 1 -> 1.0; top query 2: rows 2, then 0/1 -> 1.0; bottom: 3, 2 -> 0.5
    assert report.precision_by_category == pytest.approx({"top": 1.0, "bottom": 0.5})
    assert report.precision_at_k == pytest.approx(2.5 / 3)
    # exact top-2: {0,1}, {2,1}, {3,0}, {3,2}; the index found 2, 1, 2, 2 of them
    assert report.index_recall == pytest.approx((1 + 0.5 + 1 + 1) / 4)
    latency = report.latency_ms["encode"]
    assert latency is not None and latency.p50 == pytest.approx(25.0)
    assert "instance top-1" in format_evaluation(report)


def test_a_product_missing_from_the_catalog_counts_as_a_miss():
    report = evaluate_query_set(
        unit([1, 0, 0]),
        GALLERY,
        gallery_products=PRODUCTS,
        gallery_categories=CATEGORIES,
        query_products=["Z"],
        query_categories=[None],
    )
    assert (report.top1, report.top5, report.missing) == (0.0, 0.0, 1)
    assert report.precision_at_k is None and report.index_recall is None


def test_products_count_once_at_their_best_rank():
    assert products_in_order([1, 0, 2, 3], PRODUCTS) == ["A", "B", "C"]


def test_index_recall_compares_sets_per_query():
    exact = np.array([[0, 1], [2, 3]])
    assert index_recall(exact, [[1, 0], [2, 9]]) == pytest.approx(0.75)
    assert index_recall(exact, []) is None


def test_latency_summary_in_milliseconds():
    latency = Latency.of([0.001] * 19 + [0.1])
    assert latency is not None
    assert latency.p50 == pytest.approx(1.0)
    assert latency.mean == pytest.approx((19 + 100) / 20)
    assert Latency.of([]) is None
