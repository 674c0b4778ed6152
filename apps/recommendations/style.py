"""A garment's category and 23-style vector.

The default style model needs no training: the nearest curated catalog crops vote with
their products' style tags, weighted by similarity (k = ``STYLE_KNN_K``). Curators' tags
are the ground truth, so better curation means better style answers, and a tag a curator
fixes moves the vote at once. A garment whose category nobody gave gets the category its
neighbours vote for.

A trained head (``ML_STYLE_HEAD``, made by ``manage.py train_style``) replaces the vote for
the style when one is configured; the neighbours still give a missing category. A vector
the head cannot score (made by another encoder than the head's) gets the vote.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np
from django.conf import settings

from apps.recommendations.retrieval import CATEGORIES, catalog_neighbours
from config.taxonomy import styles
from ml.registry import get_registry
from ml.style import StyleHeadMismatch
from ml.types import Embedding, StyleVector

logger = logging.getLogger(__name__)

KNN_SOURCE = "knn-vote"


@dataclass(frozen=True)
class GarmentProfile:
    category: str  # "" when neither the client, the detector nor the catalog can tell
    style: StyleVector


def _vote(neighbours: list[tuple[int, float]]) -> tuple[dict[int, str], dict[int, list[str]]]:
    from apps.catalog.models import ProductCrop

    rows = ProductCrop.objects.filter(pk__in=[pk for pk, _ in neighbours]).values_list(
        "pk", "category", "image__product__style_tags__slug"
    )
    categories: dict[int, str] = {}
    tags: dict[int, list[str]] = defaultdict(list)
    for pk, category, tag in rows:
        categories[pk] = category
        if tag:
            tags[pk].append(tag)
    return categories, tags


def style_knn_vote(*, embedding: Embedding, category: str | None) -> GarmentProfile:
    """Category and style from the ``STYLE_KNN_K`` nearest curated catalog crops."""
    names = styles()
    found = catalog_neighbours(
        vector=embedding.to_numpy(),
        encoder_id=embedding.encoder_id,
        categories=[category] if category else CATEGORIES,
        k=settings.STYLE_KNN_K,
    )
    neighbours = [(n.id, max(n.score, 0.0)) for n in found]
    crop_category, crop_tags = _vote(neighbours)
    scores = np.zeros(len(names), dtype=np.float64)
    category_votes: dict[str, float] = defaultdict(float)
    tagged_weight = 0.0
    position = {name: i for i, name in enumerate(names)}
    for pk, weight in neighbours:
        if pk in crop_category:
            category_votes[crop_category[pk]] += weight
        if crop_tags.get(pk):
            tagged_weight += weight
            for tag in crop_tags[pk]:
                scores[position[tag]] += weight
    if tagged_weight > 0:
        scores /= tagged_weight  # each number: the weighted share of neighbours with that tag
    voted = max(category_votes, key=lambda c: category_votes[c]) if category_votes else ""
    return GarmentProfile(
        category=category or voted,
        style=StyleVector(
            scores=tuple(float(round(s, 6)) for s in scores), styles=names, source=KNN_SOURCE
        ),
    )


def garment_profile(*, embedding: Embedding, category: str | None) -> GarmentProfile:
    """The style model configured (a trained head when there is one), else the k-NN vote."""
    head = get_registry().style_head()
    if head is None:
        return style_knn_vote(embedding=embedding, category=category)
    try:
        [style] = head.predict([embedding])
    except StyleHeadMismatch as exc:
        logger.warning("style.head_skipped reason=encoder_mismatch error=%s", exc)
        return style_knn_vote(embedding=embedding, category=category)
    if not category:
        return replace(style_knn_vote(embedding=embedding, category=None), style=style)
    return GarmentProfile(category=category, style=style)
