"""The retrieval metrics give known numbers on constructed cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml.base import Encoder
from ml.evaluation import (
    CLOTHING_SMALL_CATEGORIES,
    HogColourBaselineEncoder,
    clothing_small_photos,
    consumer_copy,
    evaluate_category_precision,
    evaluate_instance_retrieval,
    evaluate_synthetic,
    garment_alpha,
    instance_top_k,
    mean_by_group,
    nearest_neighbours,
    neighbour_confusion,
    precision_at_k,
    synthetic_crop,
)
from ml.types import Box


def _unit(rows: list[list[float]]) -> np.ndarray:
    array = np.asarray(rows, dtype=np.float32)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


# Two tight clusters on the x and y axes, and one point between them (closer to x).
POINTS = _unit([[1.0, 0.0], [0.99, 0.05], [0.98, 0.1], [0.0, 1.0], [0.05, 0.99], [0.8, 0.6]])


def test_nearest_neighbours_leave_one_out_never_returns_the_query_itself() -> None:
    neighbours = nearest_neighbours(POINTS, POINTS, 2, exclude_self=True)
    assert neighbours.shape == (6, 2)
    assert all(row not in neighbours[row] for row in range(6))
    assert neighbours[0].tolist() == [1, 2]
    assert neighbours[3].tolist() == [4, 5]


def test_nearest_neighbours_without_exclusion_finds_the_identical_row_first() -> None:
    neighbours = nearest_neighbours(POINTS, POINTS, 1)
    assert neighbours[:, 0].tolist() == [0, 1, 2, 3, 4, 5]


def test_nearest_neighbours_caps_k_at_the_gallery_size() -> None:
    assert nearest_neighbours(POINTS[:3], POINTS[:3], 10, exclude_self=True).shape == (3, 2)


def test_nearest_neighbours_works_across_query_blocks() -> None:
    whole = nearest_neighbours(POINTS, POINTS, 3, exclude_self=True)
    blocked = nearest_neighbours(POINTS, POINTS, 3, exclude_self=True, block=2)
    assert np.array_equal(whole, blocked)


def test_precision_at_k_counts_the_share_of_neighbours_with_the_query_label() -> None:
    labels = ["a", "a", "a", "b", "b", "a"]
    neighbours = nearest_neighbours(POINTS, POINTS, 2, exclude_self=True)
    precision = precision_at_k(neighbours, labels, labels)
    # point 0: neighbours 1, 2 (a, a) -> 1.0; point 3: neighbours 4 (b) and 5 (a) -> 0.5
    assert precision[0] == pytest.approx(1.0)
    assert precision[3] == pytest.approx(0.5)


def test_mean_by_group_averages_each_group() -> None:
    assert mean_by_group([1.0, 0.0, 0.5, 0.5], ["x", "x", "y", "y"]) == {"x": 0.5, "y": 0.5}


def test_neighbour_confusion_rows_are_the_share_of_neighbours_per_class() -> None:
    labels = ["a", "a", "b", "b"]
    neighbours = np.array([[1, 2], [0, 2], [3, 3], [0, 2]])
    confusion = neighbour_confusion(neighbours, labels, ["a", "b"])
    # a-queries: neighbours a, b, a, b -> 0.5 / 0.5; b-queries: b, b, a, b -> 0.25 / 0.75
    assert confusion.tolist() == [[0.5, 0.5], [0.25, 0.75]]


def test_instance_top_k_counts_queries_whose_truth_is_within_k() -> None:
    neighbours = np.array([[3, 1, 2], [0, 1, 2], [2, 0, 1], [1, 2, 3]])
    truth = [3, 2, 2, 0]
    assert instance_top_k(neighbours, truth, 1) == pytest.approx(0.5)
    assert instance_top_k(neighbours, truth, 3) == pytest.approx(0.75)


def test_category_report_breaks_precision_down_by_class_and_category() -> None:
    labels = ["shirt", "t-shirt", "t-shirt", "pants", "pants", "shirt"]
    categories = [CLOTHING_SMALL_CATEGORIES[label] for label in labels]
    report = evaluate_category_precision(POINTS, labels, categories, k=2)
    # top queries 0, 1, 2 see only tops; 5 sees 0 and 1 (tops); pants see one pants + 5
    assert report.by_category == {"top": pytest.approx(1.0), "bottom": pytest.approx(0.5)}
    assert report.precision == pytest.approx((4 * 1.0 + 2 * 0.5) / 6)
    assert report.by_class["pants"] == pytest.approx(0.5)
    assert report.counts == {"shirt": 2, "t-shirt": 2, "pants": 2}
    row = report.classes.index("pants")
    assert sum(report.confusion[row]) == pytest.approx(1.0)


def test_instance_report_is_perfect_when_queries_equal_the_gallery() -> None:
    labels = ["a", "a", "a", "b", "b", "a"]
    report = evaluate_instance_retrieval(POINTS, POINTS, list(range(6)), labels, labels)
    assert report.top1 == pytest.approx(1.0)
    assert report.top1_by_class == {"a": 1.0, "b": 1.0}


def test_clothing_small_photos_maps_folders_onto_the_four_categories(tmp_path: Path) -> None:
    for split, label in [("train", "t-shirt"), ("train", "hat"), ("validation", "skirt")]:
        folder = tmp_path / split / label
        folder.mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(folder / "a.jpg")
    (tmp_path / "train" / "t-shirt" / "notes.txt").write_text("not a photo")
    photos = clothing_small_photos(tmp_path)
    assert [(p.label, p.category) for p in photos] == [("t-shirt", "top"), ("skirt", "bottom")]


def _garment_photo() -> Image.Image:
    """A red shirt-like shape on a beige bed."""
    canvas = np.full((200, 150, 3), (205, 190, 160), dtype=np.uint8)
    canvas[40:170, 40:110] = (190, 30, 30)
    canvas[40:80, 15:135] = (190, 30, 30)
    return Image.fromarray(canvas)


def test_garment_alpha_cuts_the_garment_from_a_plain_background() -> None:
    alpha = garment_alpha(np.asarray(_garment_photo()))
    assert alpha[100, 75] > 0.9
    assert alpha[190, 5] < 0.1


def test_consumer_copy_is_reproducible_and_changes_the_photo() -> None:
    photo = _garment_photo()
    first = consumer_copy(photo, np.random.default_rng(3))
    second = consumer_copy(photo, np.random.default_rng(3))
    assert np.array_equal(np.asarray(first), np.asarray(second))
    assert first.size != photo.size  # cropped
    corner = np.asarray(first)[2, 2].astype(int)
    assert np.abs(corner - np.array([205, 190, 160])).sum() > 20  # a new surface shows


def test_synthetic_crop_grows_the_box_and_stays_inside_the_image() -> None:
    image = Image.new("RGB", (100, 100))
    assert synthetic_crop(image, Box(10, 10, 50, 90)).size == (44, 88)
    assert synthetic_crop(image, Box(0, 0, 100, 100)).size == (100, 100)


class _MeanColourEncoder(Encoder):
    """Encodes a synthetic image by its mean colour only: weak, but deterministic."""

    name = "mean-colour"
    dim = 3

    def _load(self) -> None:
        return None

    def _encode(self, images: list[Image.Image]) -> np.ndarray:  # type: ignore[override]
        return np.stack(
            [np.asarray(i.convert("RGB"), dtype=np.float32).mean(axis=(0, 1)) for i in images]
        )


def test_evaluate_synthetic_reports_every_product_and_category() -> None:
    result = evaluate_synthetic(_MeanColourEncoder(), n_products=12, seed=1, size=96)
    assert result.n_products == 12
    assert result.all_products.n_gallery == 12
    assert 0 < result.all_products.n_queries <= 12
    assert 0.0 <= result.all_products.top1 <= result.own_category.top1 <= 1.0
    assert set(result.all_products.top1_by_category) <= {"top", "bottom", "outer", "dress"}


def test_baseline_encoder_gives_unit_vectors_of_its_dimension() -> None:
    encoder = HogColourBaselineEncoder()
    vectors = encoder.encode_array([_garment_photo(), Image.new("L", (30, 20), 128)])
    assert vectors.shape == (2, encoder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
