"""Index benchmark (``make bench``): recall@10 vs exact search, latency, build, memory.

Sizes come from ``BENCH_INDEX_SIZES`` (default ``10000,100000``; the 1,000,000 run takes
minutes and about 5 GiB: ``BENCH_INDEX_SIZES=1000000 make bench PYTEST_ARGS=-k index``).
Each size prints a Markdown row for docs/benchmarks.md (``-s`` to see it) and is written
to ``var/bench/index-<n>.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from ml.index import IndexConfig
from ml.index.bench import markdown, run

SIZES = [int(s) for s in os.environ.get("BENCH_INDEX_SIZES", "10000,100000").split(",") if s]
DIM = int(os.environ.get("BENCH_INDEX_DIM", "256"))
# The tuned settings (docs/benchmarks.md "## Index"); override to explore.
CONFIG = IndexConfig(
    n_trees=int(os.environ.get("BENCH_INDEX_N_TREES", "96")),
    search_k=int(os.environ.get("BENCH_INDEX_SEARCH_K", "2500")),
    search_k_per_item=float(os.environ.get("BENCH_INDEX_SEARCH_K_PER_ITEM", "0.03")),
    overfetch=int(os.environ.get("BENCH_INDEX_OVERFETCH", "10")),
    annoy_dim=int(os.environ.get("BENCH_INDEX_ANNOY_DIM", "64")) or None,
    exact_below=int(os.environ.get("BENCH_INDEX_EXACT_BELOW", "10000")),
    refresh_seconds=1.0,
)
OUT = Path(os.environ.get("BENCH_OUT", "var/bench"))


@pytest.mark.bench
@pytest.mark.parametrize("n", SIZES)
def test_index_recall_latency_and_build_against_exact_search(n: int) -> None:
    [result] = run(n, dim=DIM, config=CONFIG, queries=500)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"index-{n}.json").write_text(json.dumps(asdict(result), indent=2))
    print("\n" + markdown([result]))
    assert result.recall_at_k >= 0.98
    if n > CONFIG.exact_below:  # smaller indexes are scanned exactly on purpose
        assert result.speedup > 1.0  # the forest must beat scanning every vector
    if n >= 1_000_000:
        assert result.build_seconds <= 180
