"""Index benchmark: recall@k against exact search, latency, build time and memory.

Data: a Gaussian mixture on the unit sphere shaped like encoder output: cluster centres
and within-cluster offsets drawn with a decaying (power-law) spectrum over the dimensions,
about ``cluster_size`` points per cluster, normalised. Queries are held-out points of the
same mixture perturbed with noise (a new photo of a catalogued look).

Run: ``python -m ml.index.bench --sizes 10000 100000 --search-k 5000 10000`` (one build per
size, measured under each search_k x overfetch; prints a Markdown table).
"""

from __future__ import annotations

import argparse
import gc
import resource
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ml.index.store import CategoryIndex, IndexConfig, build_index

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ClusteredData:
    """A reproducible mixture: ``points(start, count)`` gives any slice of it."""

    dim: int
    clusters: int
    seed: int = 0
    spread: float = 0.55
    decay: float = 0.5

    def _scale(self) -> F32:
        scale = (np.arange(1, self.dim + 1, dtype=np.float64) ** -self.decay).astype(np.float32)
        scaled: F32 = (scale / np.linalg.norm(scale)).astype(np.float32)
        return scaled

    def centres(self) -> F32:
        rng = np.random.default_rng([self.seed, 1])
        raw = rng.standard_normal((self.clusters, self.dim), dtype=np.float32) * self._scale()
        centres: F32 = raw / np.linalg.norm(raw, axis=1, keepdims=True)
        return centres

    def points(self, start: int, count: int, *, stream: int = 2, noise: float = 0.0) -> F32:
        """Points ``start .. start+count`` of stream ``stream`` (2: catalog, 3: held out)."""
        centres = self.centres()
        out = np.empty((count, self.dim), dtype=np.float32)
        scale = self._scale()
        block = 65_536
        for offset in range(0, count, block):
            m = min(block, count - offset)
            rng = np.random.default_rng([self.seed, stream, start + offset])
            which = rng.integers(0, self.clusters, m)
            x = centres[which] + self.spread * (
                rng.standard_normal((m, self.dim), dtype=np.float32) * scale
            )
            if noise:
                x += noise * rng.standard_normal((m, self.dim), dtype=np.float32) * scale
            out[offset : offset + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
        return out


def exact_top_k(base: F32, queries: F32, k: int) -> I64:
    """Rows of the ``k`` most similar base vectors per query (brute force)."""
    out = np.empty((queries.shape[0], k), dtype=np.int64)
    step = max(1, min(256, 2**26 // max(1, base.shape[0])))  # score blocks <= 256 MiB
    for i in range(0, queries.shape[0], step):
        scores = queries[i : i + step] @ base.T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        out[i : i + step] = np.take_along_axis(top, order, axis=1)
    return out


def exact_search_p50_ms(base: F32, queries: F32, k: int) -> float:
    """Median single-query time of exact search (scores + top-k), the faster of BLAS
    matrix-vector and einsum (multi-threaded BLAS stalls on a busy machine)."""
    best = float("inf")
    for method in ("blas", "einsum"):
        times = []
        for q in queries:
            t0 = time.perf_counter()
            scores = base @ q if method == "blas" else np.einsum("ij,j->i", base, q)
            top = np.argpartition(-scores, k)[:k]
            top[np.argsort(-scores[top])]
            times.append(time.perf_counter() - t0)
        best = min(best, float(np.percentile(times, 50)) * 1000)
    return best


@dataclass(frozen=True)
class BenchResult:
    n: int
    dim: int
    n_trees: int
    search_k: int
    overfetch: int
    annoy_dim: int | None
    recall_at_k: float
    k: int
    p50_ms: float
    p95_ms: float
    cpu_p50_ms: float
    exact_p50_ms: float
    speedup: float
    build_seconds: float
    index_mb: float
    build_rss_mb: float  # resident memory the build added on top of the data, at peak


def _rss_mb() -> float:
    """Resident memory now (Linux /proc), else the peak so far."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class _PeakRss:
    """Samples resident memory every 20 ms while a block runs."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def __enter__(self) -> _PeakRss:
        self.peak = _rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def run(
    n: int,
    *,
    dim: int = 256,
    config: IndexConfig,
    query_settings: Sequence[tuple[int, int]] = (),
    queries: int = 500,
    k: int = 10,
    cluster_size: int = 100,
    root: Path | None = None,
    seed: int = 0,
) -> list[BenchResult]:
    """Builds one index of ``n`` vectors and measures it under each (search_k, overfetch)
    in ``query_settings`` (default: the config's own)."""
    data = ClusteredData(dim=dim, clusters=max(1, n // cluster_size), seed=seed)
    base = data.points(0, n)
    query_vectors = data.points(0, queries, stream=3, noise=0.25)
    truth = [set(row.tolist()) for row in exact_top_k(base, query_vectors, k)]
    exact_p50 = exact_search_p50_ms(base, query_vectors[:50], k)
    settings = list(query_settings) or [(config.search_k, config.overfetch)]

    results = []
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        gc.collect()
        rss_before = _rss_mb()
        with _PeakRss() as peak:
            started = time.perf_counter()
            manifest = build_index(
                Path(tmp), "bench", np.arange(n), base, encoder_id="bench@1", config=config
            )
            build_seconds = time.perf_counter() - started
        build_rss = max(0.0, peak.peak - rss_before)
        version_dir = Path(tmp) / "bench" / "versions" / manifest.version
        index_mb = sum(p.stat().st_size for p in version_dir.iterdir()) / 2**20
        del base
        gc.collect()

        for search_k, overfetch in settings:
            tuned = replace(config, search_k=search_k, overfetch=overfetch, refresh_seconds=1.0)
            reader = CategoryIndex(Path(tmp), "bench", tuned)
            reader.load()
            for q in query_vectors[:50]:  # warm the page cache and the code paths
                reader.query(q, k)
            latencies = []
            cpu = []
            hits = 0
            for i, q in enumerate(query_vectors):
                c0 = time.thread_time()
                t0 = time.perf_counter()
                found = reader.query(q, k)
                latencies.append(time.perf_counter() - t0)
                cpu.append(time.thread_time() - c0)
                hits += len({nb.id for nb in found} & truth[i])
            del reader
            gc.collect()
            p50 = float(np.percentile(latencies, 50)) * 1000
            results.append(
                BenchResult(
                    n=n,
                    dim=dim,
                    n_trees=config.n_trees,
                    search_k=tuned.first_search_k(n) if search_k > 0 else 0,
                    overfetch=overfetch,
                    annoy_dim=manifest.annoy_dim,
                    recall_at_k=hits / (queries * k),
                    k=k,
                    p50_ms=round(p50, 3),
                    p95_ms=round(float(np.percentile(latencies, 95)) * 1000, 3),
                    cpu_p50_ms=round(float(np.percentile(cpu, 50)) * 1000, 3),
                    exact_p50_ms=round(exact_p50, 3),
                    speedup=round(exact_p50 / p50, 1),
                    build_seconds=round(build_seconds, 1),
                    index_mb=round(index_mb, 1),
                    build_rss_mb=round(build_rss, 1),
                )
            )
    return results


def markdown(results: Sequence[BenchResult]) -> str:
    header = (
        "| n | dim | n_trees | search_k | overfetch | annoy_dim | recall@10 | p50 ms | p95 ms "
        "| CPU p50 ms | exact p50 ms | speed-up | build s | files MB | build RSS +MB |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {r.n:,} | {r.dim} | {r.n_trees} | {r.search_k or 'default'} | {r.overfetch} | "
        f"{r.annoy_dim or '-'} | {r.recall_at_k:.3f} | {r.p50_ms} | {r.p95_ms} | {r.cpu_p50_ms} | "
        f"{r.exact_p50_ms} | {r.speedup}x | {r.build_seconds} | {r.index_mb} | "
        f"{r.build_rss_mb} |"
        for r in results
    ]
    return "\n".join([header, *rows])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--n-trees", type=int, default=IndexConfig().n_trees)
    parser.add_argument(
        "--search-k", type=int, nargs="+", default=[IndexConfig().search_k], help="sweep"
    )
    parser.add_argument(
        "--overfetch", type=int, nargs="+", default=[IndexConfig().overfetch], help="sweep"
    )
    parser.add_argument(
        "--annoy-dim", type=int, default=IndexConfig().annoy_dim or 0, help="0: no projection"
    )
    parser.add_argument(
        "--search-k-per-item",
        type=float,
        default=0.0,
        help="search_k at least this share of the items (the service's default: 0.03; "
        "0 here, so --search-k is exactly what is measured)",
    )
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--tmp", type=Path, default=None, help="where to build")
    parser.add_argument(
        "--exact-below", type=int, default=0, help="exact scan at or below this size (0: never)"
    )
    args = parser.parse_args(argv)
    config = IndexConfig(
        n_trees=args.n_trees,
        annoy_dim=args.annoy_dim or None,
        exact_below=args.exact_below,
        search_k_per_item=args.search_k_per_item,
    )
    settings = [(sk, of) for sk in args.search_k for of in args.overfetch]
    results = []
    for n in args.sizes:
        for result in run(
            n,
            dim=args.dim,
            config=config,
            query_settings=settings,
            queries=args.queries,
            root=args.tmp,
        ):
            print(asdict(result), flush=True)
            results.append(result)
    print(markdown(results))


if __name__ == "__main__":
    main()
