"""Per-category Annoy indexes: versioned builds, an exact delta, atomic swaps.

On disk, one folder per category under a root::

    root/<category>/CURRENT                  # {"version": "..."}: the live version
    root/<category>/.lock                    # flock: delta appends and publishing
    root/<category>/versions/<version>/
        index.ann        Annoy forest (euclidean on a PCA projection, or angular on the vectors)
        vectors.npy      (n, dim) float32, L2-normalised: exact re-ranking, memory-mapped
        ids.npy          (n,) int64: Annoy item i is ids[i]
        projection.npy   (dim, annoy_dim) float32, only when the Annoy stage is projected
        manifest.json    encoder id, dim, count, n_trees, build seconds...
        delta.log        fixed-size records appended since the build (adds and removals)
        RETIRED          written when a newer version replaced this one

Building writes a new version folder and then publishes it by replacing ``CURRENT``
(``os.replace``). A :class:`CategoryIndex` notices the new pointer with a ``stat`` (on each
query, or every ``refresh_seconds``) and switches without a restart; a query already
running on the old version finishes on it (its files stay mapped even once removed).
Vectors added or removed after a build go to the version's ``delta.log``, which every
reader (any process) replays: added vectors are searched exactly and merged with Annoy's
candidates, removed ids are tombstones, so a new product is findable at once and a
deactivated one disappears before the next build. Entries appended while a build runs are
carried into the new version when it is published.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from annoy import AnnoyIndex

from ml.types import Embedding

logger = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

FORMAT = 1
_OP_ADD = 1
_OP_REMOVE = 2


class IndexStoreError(RuntimeError):
    """Something about an index on disk or a request to it is wrong; the message says what."""


class IndexNotBuiltError(IndexStoreError):
    """No version of this category's index has been published yet."""


class EncoderMismatchError(IndexStoreError):
    """Vectors of different encoders (name@version) would end up in one index."""


@dataclass(frozen=True)
class IndexConfig:
    """How indexes are built and queried (``ML_INDEX_*`` variables; see the README).

    Attributes:
        n_trees: Annoy trees per build; more trees, better recall, bigger files.
        search_k: nodes Annoy inspects for the first candidate round, at least; 0 means
            Annoy's default (``n_trees`` x candidates). Widened rounds scale it.
        search_k_per_item: the first round inspects at least this share of the built
            items too: a bigger index needs a bigger candidate pool for the same recall
            (on CNN-like vectors recall@10 0.98 needs about 3 % of the items at 100k and
            at 1M: ``docs/benchmarks.md``).
        overfetch: candidates fetched per result wanted (k x overfetch), so filters
            applied afterwards still leave k.
        annoy_dim: project vectors (PCA, fitted at build) to this many dimensions for the
            Annoy stage (euclidean there); re-ranking stays exact on the full vectors.
            None, or at least the vectors' dimension: no projection (angular forest).
        refresh_seconds: how often a reader stats the version pointer and the delta log
            (0: before every query).
        grace_seconds: how long a replaced version stays on disk before cleanup removes it.
        build_jobs: threads Annoy builds with (-1: every core).
        exact_below: with at most this many built items, queries score every item exactly
            (faster than the forest at that size, and recall 1).
    """

    n_trees: int = 96
    search_k: int = 2_500
    search_k_per_item: float = 0.03
    overfetch: int = 10
    annoy_dim: int | None = 64
    refresh_seconds: float = 0.0
    grace_seconds: float = 600.0
    build_jobs: int = -1
    exact_below: int = 10_000

    def __post_init__(self) -> None:
        if self.n_trees < 1:
            raise ValueError("n_trees must be at least 1")
        if self.overfetch < 1:
            raise ValueError("overfetch must be at least 1")
        if self.search_k < 0 or self.search_k_per_item < 0:
            raise ValueError("search_k and search_k_per_item must not be negative")
        if self.annoy_dim is not None and self.annoy_dim < 2:
            raise ValueError("annoy_dim must be at least 2 (or None for no projection)")

    def first_search_k(self, count: int) -> int:
        """The first round's search_k for an index of ``count`` built items."""
        return max(self.search_k, round(self.search_k_per_item * count))


@dataclass(frozen=True)
class IndexManifest:
    format: int
    category: str
    version: str
    encoder_id: str
    dim: int
    count: int
    n_trees: int
    annoy_dim: int | None
    metric: str
    build_seconds: float
    built_at: str

    @classmethod
    def read(cls, path: Path) -> IndexManifest:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise IndexStoreError(f"{path}: unsupported index format {data.get('format')!r}")
        return cls(**data)


@dataclass(frozen=True)
class Neighbour:
    """A result: the item's id and its cosine similarity to the query."""

    id: int
    score: float


# ---------------------------------------------------------------------------- helpers


def _normalise(vectors: npt.ArrayLike, *, what: str) -> F32:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"{what}: expected a 2-D array (n, dim), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{what}: vectors contain NaN or infinity")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    if array.shape[0] and float(norms.min()) < 1e-12:
        raise ValueError(f"{what}: a zero vector has no direction and cannot be indexed")
    normalised: F32 = (array / norms).astype(np.float32)
    return normalised


def _ids(ids: npt.ArrayLike | Sequence[int], n: int, *, what: str) -> I64:
    array = np.asarray(ids, dtype=np.int64).reshape(-1)
    if array.shape[0] != n:
        raise ValueError(f"{what}: {array.shape[0]} ids for {n} vectors")
    if np.unique(array).shape[0] != n:
        raise ValueError(f"{what}: ids must be unique")
    return array


def stack_embeddings(embeddings: Sequence[Embedding]) -> tuple[F32, str]:
    """(n, dim) vectors and their one encoder id; refuses a mix of encoders or dims."""
    if not embeddings:
        raise ValueError("no embeddings")
    encoder_ids = sorted({e.encoder_id for e in embeddings})
    if len(encoder_ids) > 1:
        raise EncoderMismatchError(
            f"embeddings from different encoders cannot share an index: {encoder_ids}; "
            "re-encode them with one encoder"
        )
    dims = {e.dim for e in embeddings}
    if len(dims) > 1:
        raise ValueError(f"embeddings of different dimensions: {sorted(dims)}")
    return np.stack([e.to_numpy() for e in embeddings]), encoder_ids[0]


def _category_dir(root: Path, category: str) -> Path:
    if not category or "/" in category or category.startswith("."):
        raise ValueError(f"bad category name {category!r}")
    return Path(root) / category


@contextlib.contextmanager
def _locked(category_dir: Path) -> Iterator[None]:
    category_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(category_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read_pointer(category_dir: Path) -> str | None:
    try:
        data = json.loads((category_dir / "CURRENT").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return str(data["version"])


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _record_dtype(dim: int) -> np.dtype[Any]:
    return np.dtype([("op", "u1"), ("pad", "u1", (7,)), ("id", "<i8"), ("vec", "<f4", (dim,))])


def _metric(name: str) -> Literal["angular", "dot", "euclidean"]:
    if name == "angular":
        return "angular"
    if name == "dot":  # builds before the projected stage went euclidean
        return "dot"
    if name == "euclidean":
        return "euclidean"
    raise IndexStoreError(f"unsupported index metric {name!r}")


def current_manifest(root: Path, category: str) -> IndexManifest | None:
    """The live version's manifest, or None before the first build."""
    category_dir = _category_dir(root, category)
    version = _read_pointer(category_dir)
    if version is None:
        return None
    return IndexManifest.read(category_dir / "versions" / version / "manifest.json")


# ---------------------------------------------------------------------------- building


def _fit_projection(vectors: F32, annoy_dim: int, *, seed: int = 0) -> F32:
    """Top principal axes of the (uncentred) vectors: inner products and distances keep
    the most of themselves in the projection."""
    sample = vectors
    if vectors.shape[0] > 50_000:
        rows = np.random.default_rng(seed).choice(vectors.shape[0], 50_000, replace=False)
        sample = vectors[np.sort(rows)]
    second_moment = (sample.T.astype(np.float64) @ sample.astype(np.float64)) / len(sample)
    _, eigvecs = np.linalg.eigh(second_moment)
    projection: F32 = np.ascontiguousarray(eigvecs[:, ::-1][:, :annoy_dim]).astype(np.float32)
    return projection


def build_index(
    root: Path,
    category: str,
    ids: npt.ArrayLike | Sequence[int],
    vectors: npt.ArrayLike,
    *,
    encoder_id: str,
    config: IndexConfig | None = None,
) -> IndexManifest:
    """Builds a new version of ``category``'s index and publishes it atomically.

    Args:
        root: the folder holding every category's indexes.
        ids: one integer id per vector (a product image's primary key, say); unique.
        vectors: (n, dim) float vectors; they are L2-normalised here. ``n`` may be 0 (an
            empty index that the delta fills until the next build).
        encoder_id: ``name@version`` of the encoder that made every vector.

    Returns:
        The new version's manifest (it is live when this returns).
    """
    cfg = config or IndexConfig()
    started = time.perf_counter()
    category_dir = _category_dir(root, category)
    versions_dir = category_dir / "versions"
    versions_dir.mkdir(parents=True, exist_ok=True)
    matrix = _normalise(vectors, what=f"index {category}")
    id_array = _ids(ids, matrix.shape[0], what=f"index {category}")
    dim = int(matrix.shape[1])
    if dim < 1:
        raise ValueError(f"index {category}: vectors have no dimensions")

    # Delta entries appended from here on are carried into the new version at publish.
    previous = _read_pointer(category_dir)
    carry_from = 0
    if previous is not None:
        with contextlib.suppress(FileNotFoundError):
            carry_from = (versions_dir / previous / "delta.log").stat().st_size

    now = datetime.now(UTC)
    version = f"{now:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(3)}"
    building = versions_dir / f".{version}.building"
    building.mkdir()
    try:
        projected = cfg.annoy_dim is not None and cfg.annoy_dim < dim and len(matrix) > 0
        annoy_dim = cfg.annoy_dim if projected else None  # nothing to fit PCA on when empty
        projection = _fit_projection(matrix, annoy_dim) if annoy_dim else None
        # On unit vectors euclidean distance ranks exactly as angular does. A projection
        # shortens them unevenly; euclidean on the projection still approximates the
        # full-dimension distance, and its splits may miss the origin (angular and dot
        # splits may not): at 1M it needs about half of dot's search_k for recall 0.98.
        metric = _metric("euclidean" if projection is not None else "angular")
        forest = AnnoyIndex(annoy_dim or dim, metric)
        forest.set_seed(42)
        staged = matrix @ projection if projection is not None else matrix
        for i in range(staged.shape[0]):
            forest.add_item(i, staged[i])
        forest.build(cfg.n_trees, n_jobs=cfg.build_jobs)
        forest.save(str(building / "index.ann"))
        forest.unload()
        del staged
        np.save(building / "vectors.npy", matrix)
        np.save(building / "ids.npy", id_array)
        if projection is not None:
            np.save(building / "projection.npy", projection)
        for name in os.listdir(building):
            with open(building / name, "rb") as fh:
                os.fsync(fh.fileno())
        manifest = IndexManifest(
            format=FORMAT,
            category=category,
            version=version,
            encoder_id=encoder_id,
            dim=dim,
            count=int(matrix.shape[0]),
            n_trees=cfg.n_trees,
            annoy_dim=annoy_dim,
            metric=metric,
            build_seconds=0.0,
            built_at=now.isoformat(),
        )
        with _locked(category_dir):
            carried = _carry_delta(versions_dir, previous, carry_from, building, manifest)
            manifest = IndexManifest(
                **{**asdict(manifest), "build_seconds": round(time.perf_counter() - started, 3)}
            )
            _write_atomic(building / "manifest.json", json.dumps(asdict(manifest), indent=2))
            _fsync_dir(building)
            os.replace(building, versions_dir / version)
            _fsync_dir(versions_dir)
            _write_atomic(category_dir / "CURRENT", json.dumps({"version": version}))
            if previous is not None and (versions_dir / previous).is_dir():
                (versions_dir / previous / "RETIRED").write_text(now.isoformat())
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    logger.info(
        "ml.index_built category=%s version=%s count=%d dim=%d n_trees=%d seconds=%.2f "
        "carried_delta=%d",
        category,
        version,
        manifest.count,
        dim,
        cfg.n_trees,
        manifest.build_seconds,
        carried,
    )
    return manifest


def _carry_delta(
    versions_dir: Path, previous: str | None, offset: int, target: Path, manifest: IndexManifest
) -> int:
    """Copies the previous version's delta records appended since ``offset`` into the new
    version (under the category lock, so no append can slip between copy and publish)."""
    if previous is None:
        return 0
    old_dir = versions_dir / previous
    try:
        old = IndexManifest.read(old_dir / "manifest.json")
        with open(old_dir / "delta.log", "rb") as fh:
            fh.seek(offset)
            tail = fh.read()
    except FileNotFoundError:
        return 0
    record = _record_dtype(old.dim)
    usable = len(tail) // record.itemsize * record.itemsize
    if not usable:
        return 0
    if old.encoder_id != manifest.encoder_id or old.dim != manifest.dim:
        logger.warning(
            "ml.index_delta_dropped category=%s records=%d reason=encoder_changed old=%s new=%s",
            manifest.category,
            usable // record.itemsize,
            old.encoder_id,
            manifest.encoder_id,
        )
        return 0
    with open(target / "delta.log", "wb") as fh:
        fh.write(tail[:usable])
        fh.flush()
        os.fsync(fh.fileno())
    return usable // record.itemsize


def cleanup_versions(
    root: Path, category: str, *, grace_seconds: float | None = None, now: float | None = None
) -> list[str]:
    """Removes versions replaced more than ``grace_seconds`` ago and abandoned builds.

    The live version is never removed. Returns the names removed.
    """
    grace = IndexConfig().grace_seconds if grace_seconds is None else grace_seconds
    moment = time.time() if now is None else now
    category_dir = _category_dir(root, category)
    versions_dir = category_dir / "versions"
    if not versions_dir.is_dir():
        return []
    removed: list[str] = []
    with _locked(category_dir):
        live = _read_pointer(category_dir)
        for entry in sorted(versions_dir.iterdir()):
            if entry.name == live:
                continue
            if entry.name.endswith(".building"):
                stamp = entry.stat().st_mtime
            else:
                retired = entry / "RETIRED"
                if not retired.exists():
                    continue
                stamp = retired.stat().st_mtime
            if moment - stamp >= grace:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
    if removed:
        logger.info("ml.index_cleanup category=%s removed=%s", category, ",".join(removed))
    return removed


# ---------------------------------------------------------------------------- reading


@dataclass
class _Version:
    name: str
    path: Path
    manifest: IndexManifest
    forest: AnnoyIndex | None  # memory-mapped; None for an empty build
    vectors: F32  # memory-mapped
    ids: I64
    projection: F32 | None
    _order: I64 | None = field(default=None, repr=False)

    def rows_of(self, wanted: I64) -> I64:
        """Rows holding ``wanted`` ids (ids not in this version are left out)."""
        if self._order is None:
            self._order = np.argsort(self.ids, kind="stable").astype(np.int64)
        sorted_ids = self.ids[self._order]
        pos = np.searchsorted(sorted_ids, wanted)
        pos = np.minimum(pos, max(len(sorted_ids) - 1, 0))
        found = sorted_ids[pos] == wanted if len(sorted_ids) else np.zeros(0, dtype=bool)
        rows: I64 = self._order[pos[found]]
        return rows


@dataclass(frozen=True)
class _Delta:
    ids: I64
    vectors: F32
    hidden: frozenset[int]  # base ids removed or superseded by a newer vector
    offset: int  # bytes of delta.log applied


@dataclass(frozen=True)
class _State:
    version: _Version
    delta: _Delta


def _load_version(category_dir: Path, name: str) -> _Version:
    path = category_dir / "versions" / name
    manifest = IndexManifest.read(path / "manifest.json")
    vectors = np.load(path / "vectors.npy", mmap_mode="r")
    ids = np.load(path / "ids.npy")
    projection = np.load(path / "projection.npy") if manifest.annoy_dim else None
    forest = None
    if manifest.count:
        forest = AnnoyIndex(manifest.annoy_dim or manifest.dim, _metric(manifest.metric))
        forest.load(str(path / "index.ann"))  # mmap: pages are shared between processes
    return _Version(name, path, manifest, forest, vectors, ids, projection)


class CategoryIndex:
    """One category's live index as a reader (and delta writer) sees it. Thread-safe.

    The constructor is cheap; :meth:`load` (or the first query) maps the live version.
    """

    def __init__(self, root: Path, category: str, config: IndexConfig | None = None) -> None:
        self.root = Path(root)
        self.category = category
        self.config = config or IndexConfig()
        self._dir = _category_dir(self.root, category)
        self._lock = threading.Lock()
        self._state: _State | None = None
        self._pointer_stamp: tuple[int, int] | None = None
        self._next_check = 0.0
        self._adds: dict[int, F32] = {}
        self._removed: set[int] = set()

    # -- state -------------------------------------------------------------------

    def load(self) -> None:
        """Maps the live version and replays its delta; raises :class:`IndexNotBuiltError`."""
        self._current(force=True)

    @property
    def manifest(self) -> IndexManifest:
        return self._current().version.manifest

    @property
    def version(self) -> str:
        return self._current().version.name

    def live_count(self) -> int:
        """Items a query can return: the build's, minus removed, plus the delta's."""
        state = self._current()
        hidden = np.fromiter(state.delta.hidden, dtype=np.int64, count=len(state.delta.hidden))
        base_hidden = int(np.isin(state.version.ids, hidden).sum()) if len(hidden) else 0
        return state.version.manifest.count - base_hidden + int(state.delta.ids.shape[0])

    def _pointer(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self._dir / "CURRENT")
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def _current(self, *, force: bool = False) -> _State:
        state = self._state
        if state is not None and not force:
            if time.monotonic() < self._next_check:
                return state
            if not self._lock.acquire(blocking=False):
                return state  # another thread is refreshing; this query uses what is live
        else:
            self._lock.acquire()
        try:
            return self._refresh()
        finally:
            self._lock.release()

    def _refresh(self) -> _State:
        stamp = self._pointer()
        if stamp is None:
            raise IndexNotBuiltError(
                f"no index for category {self.category!r} under {self.root}: build one first"
            )
        state = self._state
        if state is None or stamp != self._pointer_stamp:
            name = _read_pointer(self._dir)
            if name is None:  # pragma: no cover - the pointer is only ever replaced
                raise IndexNotBuiltError(f"no index for category {self.category!r}")
            if state is None or name != state.version.name:
                version = _load_version(self._dir, name)
                self._adds, self._removed = {}, set()
                state = _State(version, self._replay(version, 0, None))
                self._state = state
                logger.info(
                    "ml.index_loaded category=%s version=%s count=%d encoder=%s",
                    self.category,
                    name,
                    version.manifest.count,
                    version.manifest.encoder_id,
                )
            self._pointer_stamp = stamp
        delta = self._replay(state.version, state.delta.offset, state.delta)
        if delta is not state.delta:
            state = _State(state.version, delta)
            self._state = state
        self._next_check = time.monotonic() + self.config.refresh_seconds
        return state

    def _replay(self, version: _Version, offset: int, previous: _Delta | None) -> _Delta:
        """Applies delta.log records from byte ``offset``; returns the delta snapshot."""
        log = version.path / "delta.log"
        try:
            size = log.stat().st_size
        except FileNotFoundError:  # no delta yet, or an old version cleaned up
            size = 0
        record = _record_dtype(version.manifest.dim)
        end = size // record.itemsize * record.itemsize  # a record being written waits
        if previous is not None and end <= offset:
            return previous
        if end > offset:
            with open(log, "rb") as fh:
                fh.seek(offset)
                data = fh.read(end - offset)
            end = offset + len(data) // record.itemsize * record.itemsize
            for rec in np.frombuffer(data[: end - offset], dtype=record):
                item = int(rec["id"])
                if int(rec["op"]) == _OP_ADD:
                    self._adds[item] = np.array(rec["vec"], dtype=np.float32)
                    self._removed.discard(item)
                else:
                    self._adds.pop(item, None)
                    self._removed.add(item)
        ids = np.fromiter(self._adds.keys(), dtype=np.int64, count=len(self._adds))
        vectors = (
            np.stack(list(self._adds.values())).astype(np.float32)
            if self._adds
            else np.zeros((0, version.manifest.dim), dtype=np.float32)
        )
        hidden = frozenset(self._removed) | frozenset(self._adds)
        return _Delta(ids, vectors, hidden, max(end, offset))

    # -- writing the delta ---------------------------------------------------------

    def add(
        self, ids: Sequence[int] | npt.ArrayLike, vectors: npt.ArrayLike, *, encoder_id: str
    ) -> None:
        """Makes vectors findable now (until the next build includes them).

        An id already indexed gets the new vector. Every reader of this category, in any
        process, sees the addition on its next refresh.
        """
        matrix = _normalise(vectors, what=f"delta for {self.category}")
        id_array = _ids(ids, matrix.shape[0], what=f"delta for {self.category}")
        with _locked(self._dir):
            name = _read_pointer(self._dir)
            if name is None:
                raise IndexNotBuiltError(
                    f"no index for category {self.category!r}: build one (it may be empty) "
                    "before adding to it"
                )
            manifest = IndexManifest.read(self._dir / "versions" / name / "manifest.json")
            if encoder_id != manifest.encoder_id:
                raise EncoderMismatchError(
                    f"index {self.category!r} holds {manifest.encoder_id} vectors; refusing "
                    f"{encoder_id} vectors (rebuild the index after re-encoding everything)"
                )
            if matrix.shape[1] != manifest.dim:
                raise ValueError(
                    f"delta for {self.category}: dimension {matrix.shape[1]}, index has "
                    f"{manifest.dim}"
                )
            records = np.zeros(len(id_array), dtype=_record_dtype(manifest.dim))
            records["op"] = _OP_ADD
            records["id"] = id_array
            records["vec"] = matrix
            self._append(name, records)
        self._next_check = 0.0

    def add_embeddings(self, ids: Sequence[int], embeddings: Sequence[Embedding]) -> None:
        vectors, encoder_id = stack_embeddings(embeddings)
        self.add(ids, vectors, encoder_id=encoder_id)

    def remove(self, ids: Collection[int]) -> None:
        """Tombstones: these ids stop being returned now (and are left out of the next build
        by the caller)."""
        id_array = np.asarray(list(ids), dtype=np.int64)
        if not len(id_array):
            return
        with _locked(self._dir):
            name = _read_pointer(self._dir)
            if name is None:
                return  # nothing indexed, nothing to hide
            manifest = IndexManifest.read(self._dir / "versions" / name / "manifest.json")
            records = np.zeros(len(id_array), dtype=_record_dtype(manifest.dim))
            records["op"] = _OP_REMOVE
            records["id"] = id_array
            self._append(name, records)
        self._next_check = 0.0

    def _append(self, version: str, records: npt.NDArray[Any]) -> None:
        path = self._dir / "versions" / version / "delta.log"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            data = memoryview(records.tobytes())
            while data:  # one append per call; loop only if the kernel wrote part of it
                data = data[os.write(fd, data) :]
        finally:
            os.close(fd)

    # -- querying ----------------------------------------------------------------

    def query(
        self,
        vector: npt.ArrayLike,
        k: int = 10,
        *,
        exclude: Collection[int] = (),
        allow: Collection[int] | None = None,
        where: Callable[[int], bool] | None = None,
        encoder_id: str | None = None,
    ) -> list[Neighbour]:
        """The ``k`` items most similar to ``vector`` (cosine), best first.

        Args:
            exclude: ids never returned (the user's own items, say).
            allow: if given, only these ids may be returned (scored exactly when few).
            where: a predicate on ids applied to candidates (price, shop, active...).
            encoder_id: if given, checked against the index's encoder.

        Candidates are over-fetched (``k x overfetch``) and re-ranked exactly on the stored
        vectors; when filters leave fewer than k, the search widens until k are found or
        every item has been considered.
        """
        if k < 1:
            return []
        state = self._current()
        version, delta = state.version, state.delta
        manifest = version.manifest
        if encoder_id is not None and encoder_id != manifest.encoder_id:
            raise EncoderMismatchError(
                f"query from {encoder_id} against an index of {manifest.encoder_id} vectors"
            )
        q = _normalise(np.asarray(vector, dtype=np.float32).reshape(1, -1), what="query")[0]
        if q.shape[0] != manifest.dim:
            raise ValueError(f"query has dimension {q.shape[0]}, index has {manifest.dim}")
        hidden = delta.hidden
        excluded = exclude if isinstance(exclude, set | frozenset) else set(exclude)
        allowed = (
            None if allow is None else (allow if isinstance(allow, set | frozenset) else set(allow))
        )

        def passes(item: int) -> bool:
            return (
                item not in excluded
                and (allowed is None or item in allowed)
                and (where is None or where(item))
            )

        def keep(item: int) -> bool:  # a built item: unless removed or superseded
            return item not in hidden and passes(item)

        found: list[Neighbour] = []
        if delta.ids.shape[0]:
            scores = delta.vectors @ q
            for row in np.argsort(-scores):
                item = int(delta.ids[row])
                if passes(item):
                    found.append(Neighbour(item, float(scores[row])))
                    if len(found) >= k:
                        break
        found.extend(self._query_base(version, q, k, keep, allowed))
        found.sort(key=lambda n: -n.score)
        return found[:k]

    def _query_base(
        self,
        version: _Version,
        q: F32,
        k: int,
        keep: Callable[[int], bool],
        allowed: Collection[int] | None,
    ) -> list[Neighbour]:
        n = version.manifest.count
        if n == 0 or version.forest is None:
            return []
        if n <= self.config.exact_below:
            return self._score_rows(version, q, None, k, keep)
        if allowed is not None and len(allowed) <= max(4 * k * self.config.overfetch, 1024):
            rows = version.rows_of(np.fromiter(allowed, dtype=np.int64, count=len(allowed)))
            return self._score_rows(version, q, rows, k, keep)
        target = q @ version.projection if version.projection is not None else q
        first = min(n, max(k * self.config.overfetch, k + 10))
        wanted = first
        while True:
            search_k = (
                int(self.config.first_search_k(n) * wanted / first)
                if self.config.search_k > 0
                else -1
            )
            rows = np.asarray(
                version.forest.get_nns_by_vector(target, wanted, search_k=search_k),
                dtype=np.int64,
            )
            kept = self._score_rows(version, q, rows, k, keep)
            if len(kept) >= k or wanted >= n:
                return kept
            wanted *= 4
            if wanted >= n // 4:  # filters reject most items: score every item exactly
                return self._score_rows(version, q, None, k, keep)

    @staticmethod
    def _score_rows(
        version: _Version, q: F32, rows: I64 | None, k: int, keep: Callable[[int], bool]
    ) -> list[Neighbour]:
        """Exact cosine for ``rows`` (None: every row); the best ``k`` that pass ``keep``."""
        kept: list[Neighbour] = []
        chunk = 262_144
        total = version.manifest.count if rows is None else len(rows)
        for start in range(0, total, chunk):
            if rows is None:
                stop = min(start + chunk, total)
                part = np.arange(start, stop, dtype=np.int64)
                block = np.asarray(version.vectors[start:stop])
            else:
                part = np.sort(rows[start : start + chunk])
                block = np.asarray(version.vectors[part])
            # einsum streams a big block faster than BLAS gemv, which stalls on busy cores
            scores = np.einsum("ij,j->i", block, q) if len(part) > 4096 else block @ q
            m = len(scores)
            take = min(m, 4 * k + 32)
            while True:  # each chunk's best k survivors suffice
                if take < m:
                    best = np.argpartition(-scores, take - 1)[:take]
                    best = best[np.argsort(-scores[best])]
                else:
                    best = np.argsort(-scores)
                found = []
                for i in best:
                    item = int(version.ids[part[i]])
                    if keep(item):
                        found.append(Neighbour(item, float(scores[i])))
                        if len(found) >= k:
                            break
                if len(found) >= k or take >= m:
                    break
                take = min(m, take * 16)
            kept.extend(found)
        kept.sort(key=lambda n: -n.score)
        return kept[:k]


class IndexStore:
    """Every category's :class:`CategoryIndex` under one root, created on first use."""

    def __init__(self, root: Path, config: IndexConfig | None = None) -> None:
        self.root = Path(root)
        self.config = config or IndexConfig()
        self._lock = threading.Lock()
        self._indexes: dict[str, CategoryIndex] = {}

    def category(self, category: str) -> CategoryIndex:
        with self._lock:
            index = self._indexes.get(category)
            if index is None:
                index = CategoryIndex(self.root, category, self.config)
                self._indexes[category] = index
            return index

    def query(
        self, category: str, vector: npt.ArrayLike, k: int = 10, **filters: Any
    ) -> list[Neighbour]:
        return self.category(category).query(vector, k, **filters)
