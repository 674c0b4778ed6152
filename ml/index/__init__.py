"""Per-category Annoy retrieval: versioned builds, exact re-ranking, a live delta, swaps.

See :mod:`ml.index.store` for the on-disk layout and the guarantees; :mod:`ml.index.bench`
measures recall and latency against exact search (``make bench``).
"""

from ml.index.store import (
    CategoryIndex,
    EncoderMismatchError,
    IndexConfig,
    IndexManifest,
    IndexNotBuiltError,
    IndexStore,
    IndexStoreError,
    Neighbour,
    build_index,
    cleanup_versions,
    current_manifest,
    stack_embeddings,
)

__all__ = [
    "CategoryIndex",
    "EncoderMismatchError",
    "IndexConfig",
    "IndexManifest",
    "IndexNotBuiltError",
    "IndexStore",
    "IndexStoreError",
    "Neighbour",
    "build_index",
    "cleanup_versions",
    "current_manifest",
    "stack_embeddings",
]
