"""A garment's style: the k-NN vote over the curated catalog, or the trained head."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from apps.catalog import services
from apps.catalog.models import ProductCrop
from apps.recommendations.style import KNN_SOURCE, garment_profile, style_knn_vote
from ml.registry import reset_registry
from ml.style import StyleHeadMismatch, TrainConfig, train_style_head
from ml.types import Embedding
from tests.apps.catalog.conftest import ProductFactory, image_bytes

RED, REDDISH, BLUE = (200, 30, 30), (190, 50, 40), (30, 40, 200)

from ml.descriptor import DescriptorEncoder  # noqa: E402

RUNNING = f"descriptor@{DescriptorEncoder.version}"


@pytest.fixture
def catalog_index(settings, tmp_path: Path) -> Iterator[Path]:
    """An index folder of the test's own; the process's index store reopened on it."""
    from apps.recommendations.retrieval import index_store

    settings.INDEX_DIR = tmp_path / "index"
    index_store.cache_clear()
    yield settings.INDEX_DIR
    index_store.cache_clear()


@pytest.fixture
def style_head_configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Point ML_STYLE_HEAD at a file; the process's registry is rebuilt from the env."""

    def configure(path: Path) -> None:
        monkeypatch.setenv("ML_STYLE_HEAD", str(path))
        reset_registry()

    reset_registry()
    yield configure
    reset_registry()


def curated_product(colour, tags, category="top"):
    product = ProductFactory(category=category, style_tags=tags)
    image = services.product_image_add(product=product, data=image_bytes(colour))
    services.product_image_process(image_id=image.pk)
    return product


def embedding_of(product) -> Embedding:
    crop = ProductCrop.objects.get(image__product=product)
    return Embedding.from_numpy(crop.embedding_array(), encoder=crop.encoder, version="1")


def top_style(profile) -> str:
    return profile.style.dominant


def test_the_vote_follows_the_curated_tags_of_the_nearest_products(
    analyser, catalog_index, settings
):
    settings.STYLE_KNN_K = 2
    red = curated_product(RED, ["sporty"])
    reddish = curated_product(REDDISH, ["sporty", "street"])
    curated_product(BLUE, ["classic"])
    services.index_rebuild(category="top")

    profile = style_knn_vote(embedding=embedding_of(red), category=None)

    assert profile.category == "top"  # the neighbours' category, none was given
    assert profile.style.source == KNN_SOURCE
    scores = dict(zip(profile.style.styles, profile.style.scores, strict=True))
    assert scores["sporty"] == pytest.approx(1.0)  # both red neighbours say sporty
    assert 0.3 < scores["street"] < 0.7  # one of two, weighted by similarity
    assert scores["classic"] == 0.0  # the blue one is not among the 2 nearest

    services.product_style_tags_set(product=reddish, style_tags=["punk"])

    moved = style_knn_vote(embedding=embedding_of(red), category=None)
    moved_scores = dict(zip(moved.style.styles, moved.style.scores, strict=True))
    assert moved_scores["punk"] > 0.3
    assert moved_scores["street"] == 0.0
    assert moved_scores["sporty"] < 0.7


def test_retagging_the_nearest_product_changes_the_dominant_style(
    analyser, catalog_index, settings
):
    settings.STYLE_KNN_K = 1
    red = curated_product(RED, ["romantic"])
    curated_product(BLUE, ["military"])
    services.index_rebuild(category="top")
    query = embedding_of(red)
    assert top_style(style_knn_vote(embedding=query, category="top")) == "romantic"

    services.product_style_tags_set(product=red, style_tags=["avantgarde"])

    assert top_style(style_knn_vote(embedding=query, category="top")) == "avantgarde"


def test_with_no_index_the_vote_is_empty_rather_than_an_error(analyser, catalog_index):
    vector = np.ones(3, dtype=np.float32) / np.sqrt(3)
    profile = style_knn_vote(
        embedding=Embedding.from_numpy(vector, encoder="mean-colour", version="1"),
        category=None,
    )
    assert profile.category == ""
    assert sum(profile.style.scores) == 0.0


def _colour_images(base, n, rng):
    import io

    from PIL import Image

    out = []
    for _ in range(n):
        colour = tuple(int(np.clip(c + rng.integers(-40, 41), 0, 255)) for c in base)
        out.append(Image.open(io.BytesIO(image_bytes(colour, size=(96, 96)))).convert("RGB"))
    return out


def _descriptor_head(tmp_path: Path, *, encoder_id: str = RUNNING) -> Path:
    """A head over the default descriptor's vectors: red blocks are sporty, blue classic."""
    from ml.descriptor import DescriptorEncoder
    from ml.synthetic import load_styles

    styles = load_styles()
    rng = np.random.default_rng(0)
    encoder = DescriptorEncoder()
    vectors = encoder.encode_array(_colour_images(RED, 30, rng) + _colour_images(BLUE, 30, rng))
    labels = np.zeros((60, len(styles)), dtype=bool)
    labels[:30, styles.index("sporty")] = True
    labels[30:, styles.index("classic")] = True
    head = train_style_head(
        vectors, labels, styles=styles, encoder_id=encoder_id, config=TrainConfig(epochs=100)
    )
    return head.save(tmp_path / f"{encoder_id}.pt")


def test_a_configured_head_serves_the_style_and_the_catalog_still_gives_the_category(
    catalog_index, style_head_configured, tmp_path
):
    # Product images go through the real pipeline (the default descriptor encoder).
    red = curated_product(RED, ["classic"])  # the curators disagree with the head
    services.index_rebuild(category="top")
    style_head_configured(_descriptor_head(tmp_path))
    crop = ProductCrop.objects.get(image__product=red)
    assert crop.encoder_id == RUNNING

    profile = garment_profile(
        embedding=Embedding.from_numpy(
            crop.embedding_array(), encoder="descriptor", version=DescriptorEncoder.version
        ),
        category=None,
    )

    assert profile.style.source.startswith("style-head@")
    assert profile.style.dominant == "sporty"
    assert profile.category == "top"  # from the catalog's neighbours


def test_a_vector_the_head_cannot_score_gets_the_vote(
    analyser, catalog_index, style_head_configured, tmp_path
):
    # The catalog's vectors come from the stand-in analyser (mean-colour@1); the head is
    # the running encoder's (the descriptor) and cannot score them.
    red = curated_product(RED, ["classic"])
    services.index_rebuild(category="top")
    style_head_configured(_descriptor_head(tmp_path))

    profile = garment_profile(embedding=embedding_of(red), category="top")

    assert profile.style.source == KNN_SOURCE
    assert profile.style.dominant == "classic"


def test_a_head_for_another_encoder_version_is_refused_with_a_clear_error(
    style_head_configured, tmp_path
):
    # The running encoder is the default descriptor.
    style_head_configured(_descriptor_head(tmp_path, encoder_id="descriptor@0"))
    vector = np.ones(DescriptorEncoder.dim, dtype=np.float32) / np.sqrt(DescriptorEncoder.dim)

    with pytest.raises(
        StyleHeadMismatch, match=rf"trained on descriptor@0.*running encoder is {RUNNING}"
    ):
        garment_profile(
            embedding=Embedding.from_numpy(
                vector, encoder="descriptor", version=DescriptorEncoder.version
            ),
            category="top",
        )
