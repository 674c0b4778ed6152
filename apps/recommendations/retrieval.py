"""The catalog's per-category Annoy indexes as the Django side uses them.

One :class:`ml.index.IndexStore` per process over ``INDEX_DIR``; every web and worker
process reads the same files (memory-mapped) and picks up a new build or delta entries
without a restart. Ids in the index are ``ProductCrop`` ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from functools import cache

import numpy as np
import numpy.typing as npt
from django.conf import settings

from ml.index import (
    EncoderMismatchError,
    IndexConfig,
    IndexNotBuiltError,
    IndexStore,
    IndexStoreError,
    Neighbour,
)

logger = logging.getLogger(__name__)

CATEGORIES = ("top", "bottom", "outer", "dress")


def index_config() -> IndexConfig:
    return IndexConfig(
        n_trees=settings.INDEX_N_TREES,
        search_k=settings.INDEX_SEARCH_K,
        search_k_per_item=settings.INDEX_SEARCH_K_PER_ITEM,
        overfetch=settings.INDEX_OVERFETCH,
        annoy_dim=settings.INDEX_ANNOY_DIM,
        exact_below=settings.INDEX_EXACT_BELOW,
        refresh_seconds=settings.INDEX_REFRESH_SECONDS,
        grace_seconds=settings.INDEX_GRACE_SECONDS,
    )


@cache
def index_store() -> IndexStore:
    return IndexStore(settings.INDEX_DIR, index_config())


def catalog_neighbours(
    *,
    vector: npt.NDArray[np.float32],
    encoder_id: str,
    categories: Sequence[str],
    k: int,
    exclude: Collection[int] = (),
    where: Callable[[int], bool] | None = None,
) -> list[Neighbour]:
    """The ``k`` catalog crops most like ``vector`` across ``categories``, best first.

    A category with no index yet, or one built from another encoder's vectors, has no
    neighbours (the mismatch is logged: re-encode and rebuild).
    """
    found: list[Neighbour] = []
    for category in categories:
        try:
            found += (
                index_store()
                .category(category)
                .query(vector, k, exclude=exclude, where=where, encoder_id=encoder_id)
            )
        except IndexNotBuiltError:
            continue
        except EncoderMismatchError as exc:
            logger.warning("retrieval.encoder_mismatch category=%s error=%s", category, exc)
        except IndexStoreError as exc:
            logger.error("retrieval.index_error category=%s error=%s", category, exc)
    found.sort(key=lambda n: -n.score)
    return found[:k]


def catalog_index_version(*, category: str) -> str:
    """What the answers of a category depend on: the live build and its delta."""
    try:
        index = index_store().category(category)
        return f"{index.version}+{index.live_count()}"
    except IndexStoreError:
        return "none"


def catalog_index_add(
    *, category: str, crop_ids: Sequence[int], vectors: npt.NDArray[np.float32], encoder_id: str
) -> bool:
    """Make freshly encoded crops findable now (the index's delta); False if no index yet."""
    try:
        index_store().category(category).add(crop_ids, vectors, encoder_id=encoder_id)
    except IndexNotBuiltError:
        return False
    except EncoderMismatchError as exc:
        logger.warning("retrieval.delta_refused category=%s error=%s", category, exc)
        return False
    return True


def catalog_index_remove(*, category: str, crop_ids: Collection[int]) -> None:
    """Stop returning these crops now (deactivated or deleted products)."""
    index_store().category(category).remove(crop_ids)
