"""The trained style head: metrics, training, the saved file and its refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml.base import ModelLoadError
from ml.style import (
    StyleHead,
    StyleHeadMismatch,
    TrainConfig,
    average_precision,
    knn_vote_scores,
    label_matrix,
    positive_weights,
    recall_at_k,
    split_by_group,
    style_metrics,
    top_k_hits,
    train_style_head,
)
from ml.synthetic import load_styles
from ml.types import Embedding

STYLES = load_styles()


def clustered(n: int, *, dim: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows around one of four centres; centre c carries style c (and street for c = 0)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, dim))
    which = rng.integers(0, 4, n)
    vectors = centres[which] + 0.3 * rng.normal(size=(n, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.zeros((n, len(STYLES)), dtype=bool)
    labels[np.arange(n), which] = True
    labels[which == 0, STYLES.index("street")] = True
    return vectors.astype(np.float32), labels


def test_average_precision_of_known_rankings():
    labels = np.array([True, False, True, False])
    assert average_precision(np.array([0.9, 0.8, 0.7, 0.1]), labels) == pytest.approx(
        (1 / 1 + 2 / 3) / 2
    )
    assert average_precision(np.array([0.1, 0.2, 0.9, 0.8]), labels) == pytest.approx(
        (1 / 1 + 2 / 4) / 2
    )
    assert average_precision(np.zeros(4), np.zeros(4, dtype=bool)) is None


def test_top_k_and_recall_count_true_styles_among_the_best_scores():
    scores = np.array([[0.9, 0.5, 0.1, 0.0], [0.1, 0.2, 0.3, 0.9]], dtype=np.float32)
    labels = np.array([[False, True, True, False], [True, False, False, False]])
    assert top_k_hits(scores, labels, 1) == 0.0
    assert top_k_hits(scores, labels, 3) == 0.5  # row 0 finds style 1 and 2; row 1 nothing
    assert recall_at_k(scores, labels, 3) == pytest.approx((2 / 2 + 0 / 1) / 2)


def test_rare_styles_weigh_more_in_the_loss():
    labels = np.zeros((100, 3), dtype=bool)
    labels[:50, 0] = True  # "street": half of the data
    labels[:5, 1] = True
    weights = positive_weights(labels)
    assert weights[0] == pytest.approx(1.0)
    assert weights[1] == pytest.approx(19.0)
    assert weights[2] == pytest.approx(1.0)  # no positive: no weight to give


def test_a_group_stays_on_one_side_of_the_split():
    groups = ["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"]
    train, val = split_by_group(groups, val_fraction=0.2, seed=1)
    assert len(val) == 2 and len(train) == 8
    assert {groups[i] for i in val}.isdisjoint({groups[i] for i in train})


def test_unknown_style_names_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown style .gothic.*street"):
        label_matrix([["street"], ["gothic"]], STYLES)


def test_the_knn_vote_weighs_neighbours_by_similarity():
    gallery = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    labels = np.array([[1, 0], [0, 1], [0, 1]], dtype=bool)
    query = np.array([[1.0, 0.0]], dtype=np.float32)
    scores = knn_vote_scores(gallery, labels, query, k=2)
    assert scores[0] == pytest.approx([1.0 / 1.8, 0.8 / 1.8])


def test_a_trained_head_ranks_held_out_styles_far_above_chance():
    vectors, labels = clustered(400)
    head = train_style_head(
        vectors[:300],
        labels[:300],
        styles=STYLES,
        encoder_id="test@1",
        config=TrainConfig(epochs=60, hidden=32),
    )
    metrics = style_metrics(head.predict_array(vectors[300:]), labels[300:], STYLES)
    assert metrics.top1 > 0.95
    assert metrics.map > 0.9
    assert set(metrics.ap) == {*STYLES[:4], "street"}


def test_a_saved_head_loads_back_and_gives_the_same_vectors(tmp_path: Path):
    vectors, labels = clustered(200)
    head = train_style_head(
        vectors, labels, styles=STYLES, encoder_id="test@1", config=TrainConfig(epochs=20)
    )
    path = head.save(tmp_path / "head.pt", metrics={"map": 0.5})
    embedding = Embedding.from_numpy(vectors[0], encoder="test", version="1")

    loaded = StyleHead(path, styles=STYLES, encoder_id="test@1")
    assert not loaded.loaded  # the constructor reads nothing
    [style] = loaded.predict([embedding])

    [expected] = head.predict([embedding])
    assert style.scores == pytest.approx(expected.scores, abs=1e-5)
    assert style.source == f"style-head@{head.version}" == expected.source
    assert style.styles == STYLES
    assert loaded.metrics == {"map": 0.5}


def test_a_head_for_another_encoder_version_is_refused(tmp_path: Path):
    vectors, labels = clustered(50)
    path = train_style_head(
        vectors, labels, styles=STYLES, encoder_id="descriptor@1", config=TrainConfig(epochs=2)
    ).save(tmp_path / "head.pt")

    with pytest.raises(
        StyleHeadMismatch, match=r"trained on descriptor@1.*running encoder is descriptor@2"
    ):
        StyleHead(path, styles=STYLES, encoder_id="descriptor@2").load()


def test_a_head_for_another_taxonomy_is_refused(tmp_path: Path):
    vectors, labels = clustered(50)
    path = train_style_head(
        vectors, labels, styles=STYLES, encoder_id="test@1", config=TrainConfig(epochs=2)
    ).save(tmp_path / "head.pt")

    with pytest.raises(StyleHeadMismatch, match="another style taxonomy"):
        StyleHead(path, styles=STYLES[:-1], encoder_id="test@1").load()


def test_a_head_refuses_vectors_of_another_encoder(tmp_path: Path):
    vectors, labels = clustered(50)
    head = train_style_head(
        vectors, labels, styles=STYLES, encoder_id="test@1", config=TrainConfig(epochs=2)
    )
    other = Embedding.from_numpy(vectors[0], encoder="resnet50", version="abc")
    with pytest.raises(StyleHeadMismatch, match="scores test@1 embeddings, not resnet50@abc"):
        head.predict([other])


def test_a_missing_or_foreign_file_names_the_variable(tmp_path: Path):
    with pytest.raises(ModelLoadError, match=r"ML_STYLE_HEAD=.*no such file"):
        StyleHead(tmp_path / "none.pt", styles=STYLES, encoder_id="x@1").load()
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match=r"ML_STYLE_HEAD=.*not a style head"):
        StyleHead(junk, styles=STYLES, encoder_id="x@1").load()


def test_the_registry_serves_a_head_only_when_configured(tmp_path: Path):
    from ml.descriptor import DescriptorEncoder
    from ml.registry import ModelRegistry
    from ml.settings import MLSettings

    running = f"descriptor@{DescriptorEncoder.version}"
    vectors, labels = clustered(50, dim=DescriptorEncoder.dim)
    path = train_style_head(
        vectors, labels, styles=STYLES, encoder_id=running, config=TrainConfig(epochs=2)
    ).save(tmp_path / "head.pt")

    assert ModelRegistry(MLSettings()).style_head() is None
    head = ModelRegistry(MLSettings(style_head=path)).style_head()
    assert head is not None and head.loaded and head.encoder_id == running
