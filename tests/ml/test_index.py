"""The Annoy index: recall, the live delta, tombstones, filters, swaps, encoder checks."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import ml.index.store as store
from ml.index import (
    CategoryIndex,
    EncoderMismatchError,
    IndexConfig,
    IndexNotBuiltError,
    IndexStore,
    build_index,
    cleanup_versions,
    current_manifest,
    stack_embeddings,
)
from ml.index.bench import ClusteredData, exact_top_k
from ml.types import Embedding

ENC = "descriptor@1"
DIM = 64
ANNOY = IndexConfig(exact_below=0)  # these indexes are small: make queries use the forest


@pytest.fixture(scope="module")
def data() -> ClusteredData:
    return ClusteredData(dim=DIM, clusters=40, seed=1)


@pytest.fixture(scope="module")
def base(data: ClusteredData) -> np.ndarray:
    return data.points(0, 4000)


@pytest.fixture
def built(tmp_path: Path, base: np.ndarray) -> Path:
    build_index(tmp_path, "top", np.arange(1000, 1000 + len(base)), base, encoder_id=ENC)
    return tmp_path


def _exact(base: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    scores = base @ (q / np.linalg.norm(q))
    return [int(ids[i]) for i in np.argsort(-scores)[:k]]


def test_recall_against_exact_search_on_clustered_vectors(
    built: Path, base: np.ndarray, data: ClusteredData
) -> None:
    index = CategoryIndex(built, "top", ANNOY)
    queries = data.points(0, 200, stream=3, noise=0.25)
    truth = exact_top_k(base, queries, 10) + 1000
    hits = 0
    for q, expected in zip(queries, truth, strict=True):
        found = index.query(q, 10)
        assert len(found) == 10
        hits += len({n.id for n in found} & set(expected.tolist()))
    assert hits / (10 * len(queries)) >= 0.97


def test_scores_are_exact_cosines_best_first(built: Path, base: np.ndarray) -> None:
    index = CategoryIndex(built, "top", ANNOY)
    q = base[17] + 0.05
    found = index.query(q, 10)
    assert found[0].id == 1017
    scores = [n.score for n in found]
    assert scores == sorted(scores, reverse=True)
    expected = base[[n.id - 1000 for n in found]] @ (q / np.linalg.norm(q))
    assert np.allclose(scores, expected, atol=1e-5)


def test_build_writes_a_versioned_folder_with_manifest_and_maps_it(
    built: Path, base: np.ndarray
) -> None:
    manifest = current_manifest(built, "top")
    assert manifest is not None
    assert (manifest.encoder_id, manifest.dim, manifest.count) == (ENC, DIM, len(base))
    assert manifest.n_trees == IndexConfig().n_trees and manifest.build_seconds > 0
    folder = built / "top" / "versions" / manifest.version
    assert {"index.ann", "vectors.npy", "ids.npy", "manifest.json"} <= {
        p.name for p in folder.iterdir()
    }
    assert json.loads((folder / "manifest.json").read_text())["encoder_id"] == ENC
    assert json.loads((built / "top" / "CURRENT").read_text()) == {"version": manifest.version}
    index = CategoryIndex(built, "top", ANNOY)
    index.load()
    assert isinstance(index._current().version.vectors, np.memmap)


def test_a_product_added_after_the_build_is_found_at_once_by_every_reader(
    built: Path, data: ClusteredData
) -> None:
    writer = CategoryIndex(built, "top", ANNOY)
    other_reader = CategoryIndex(built, "top", ANNOY)  # another process would see the same files
    other_reader.load()
    new = data.points(0, 3, stream=4)
    writer.add([1, 2, 3], new, encoder_id=ENC)
    for reader in (writer, other_reader):
        found = reader.query(new[1], 5)
        assert found[0].id == 2 and found[0].score == pytest.approx(1.0, abs=1e-5)
    assert other_reader.live_count() == 4000 + 3


def test_re_adding_an_indexed_id_replaces_its_vector(built: Path, data: ClusteredData) -> None:
    index = CategoryIndex(built, "top", ANNOY)
    elsewhere = data.points(0, 1, stream=5)[0]
    index.add([1005], elsewhere[None, :], encoder_id=ENC)
    found = index.query(elsewhere, 3)
    assert found[0].id == 1005 and found[0].score == pytest.approx(1.0, abs=1e-5)
    assert [n.id for n in index.query(elsewhere, 50)].count(1005) == 1


def test_removed_items_disappear_before_the_rebuild(built: Path, base: np.ndarray) -> None:
    index = CategoryIndex(built, "top", ANNOY)
    before = [n.id for n in index.query(base[10], 10)]
    assert before[0] == 1010
    index.remove({1010, before[1]})
    after = [n.id for n in index.query(base[10], 10)]
    assert 1010 not in after and before[1] not in after and len(after) == 10
    index.add([1010], base[10:11], encoder_id=ENC)  # reactivated
    assert index.query(base[10], 1)[0].id == 1010
    index.add([7], base[11:12] + 0.01, encoder_id=ENC)
    index.remove([7])  # a delta item can be removed too
    assert 7 not in [n.id for n in index.query(base[11], 10)]


def test_filters_applied_afterwards_still_return_k(built: Path, base: np.ndarray) -> None:
    index = CategoryIndex(built, "top", ANNOY)
    ids = np.arange(1000, 1000 + len(base))
    q = base[100]
    top50 = _exact(base, ids, q, 50)
    found = index.query(q, 10, exclude=set(top50))
    assert len(found) == 10 and not set(top50) & {n.id for n in found}

    def rare(i: int) -> bool:
        return i % 97 == 0

    found = index.query(q, 10, where=rare)  # only ~1 % of items pass
    expected = [i for i in _exact(base, ids, q, len(base)) if rare(i)][:10]
    assert [n.id for n in found] == expected

    allowed = set(range(1000, 5000, 400))
    found = index.query(q, 10, allow=allowed)
    assert [n.id for n in found] == [i for i in _exact(base, ids, q, len(base)) if i in allowed]

    found = index.query(q, 10, where=lambda i: i % 2 == 0, exclude={1100})
    assert len(found) == 10 and all(n.id % 2 == 0 and n.id != 1100 for n in found)


def test_fewer_than_k_when_filters_leave_fewer_items(built: Path, base: np.ndarray) -> None:
    index = CategoryIndex(built, "top", ANNOY)
    found = index.query(base[0], 10, where=lambda i: i in {1001, 1002, 1003})
    assert sorted(n.id for n in found) == [1001, 1002, 1003]


def test_vectors_of_another_encoder_are_refused(built: Path, base: np.ndarray) -> None:
    index = CategoryIndex(built, "top", ANNOY)
    with pytest.raises(EncoderMismatchError, match="descriptor@1"):
        index.add([9], base[:1], encoder_id="resnet50@2")
    with pytest.raises(EncoderMismatchError):
        index.query(base[0], 5, encoder_id="resnet50@2")
    mixed = [
        Embedding.from_numpy(base[0], encoder="descriptor", version="1"),
        Embedding.from_numpy(base[1], encoder="resnet50", version="2"),
    ]
    with pytest.raises(EncoderMismatchError, match="different encoders"):
        stack_embeddings(mixed)
    with pytest.raises(EncoderMismatchError):
        index.add_embeddings([9, 10], mixed)
    index.add_embeddings([9], mixed[:1])
    assert index.query(base[0], 1)[0].id in {9, 1000}


def test_a_swap_during_concurrent_queries_loses_none(
    tmp_path: Path, base: np.ndarray, data: ClusteredData
) -> None:
    build_index(tmp_path, "top", np.arange(len(base)), base, encoder_id=ENC)
    index = CategoryIndex(tmp_path, "top", ANNOY)
    queries = data.points(0, 64, stream=3, noise=0.2)
    stop = threading.Event()
    answered = [0] * 4
    errors: list[BaseException] = []
    short: list[int] = []

    def ask(worker: int) -> None:
        i = 0
        while not stop.is_set():
            try:
                found = index.query(queries[i % len(queries)], 10)
            except BaseException as exc:  # any exception is a lost query
                errors.append(exc)
                return
            if len(found) != 10:
                short.append(len(found))
            answered[worker] += 1
            i += 1

    threads = [threading.Thread(target=ask, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    versions = set()
    for round_ in range(3):
        marker = 900_000 + round_
        ids = np.concatenate([np.arange(len(base) - 500), [marker]])
        vectors = np.concatenate([base[: len(base) - 500], queries[:1]])
        versions.add(build_index(tmp_path, "top", ids, vectors, encoder_id=ENC).version)
        time.sleep(0.05)
    time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert not errors and not short
    assert all(n > 0 for n in answered)
    assert index.version in versions  # the reader moved to a new build without a restart
    assert index.query(queries[0], 1)[0].id == 900_002


def test_a_reader_holding_the_old_version_keeps_answering_after_cleanup(
    tmp_path: Path, base: np.ndarray
) -> None:
    build_index(tmp_path, "top", np.arange(len(base)), base, encoder_id=ENC)
    lazy = CategoryIndex(tmp_path, "top", IndexConfig(refresh_seconds=3600, exact_below=0))
    lazy.load()
    old = lazy.version
    build_index(tmp_path, "top", np.arange(10, 10 + len(base)), base, encoder_id=ENC)
    assert cleanup_versions(tmp_path, "top", grace_seconds=3600) == []  # within the grace
    assert cleanup_versions(tmp_path, "top", grace_seconds=0) == [old]
    assert lazy.version == old
    assert lazy.query(base[3], 1)[0].id == 3  # old files are gone, its mapping still answers
    lazy.load()
    assert lazy.version != old and lazy.query(base[3], 1)[0].id == 13
    live = current_manifest(tmp_path, "top")
    assert live is not None and (tmp_path / "top" / "versions" / live.version).is_dir()


def test_delta_appended_while_a_build_runs_survives_the_swap(
    tmp_path: Path, base: np.ndarray, data: ClusteredData, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(tmp_path, "top", np.arange(1000), base[:1000], encoder_id=ENC)
    worker = CategoryIndex(tmp_path, "top", ANNOY)
    late = data.points(0, 1, stream=6)

    class SlowAnnoy(store.AnnoyIndex):  # a worker adds a product while the forest builds
        def build(self, n_trees: int, n_jobs: int = -1) -> bool:
            worker.add([77_777], late, encoder_id=ENC)
            return super().build(n_trees, n_jobs=n_jobs)

    monkeypatch.setattr(store, "AnnoyIndex", SlowAnnoy)
    build_index(tmp_path, "top", np.arange(2000), base[:2000], encoder_id=ENC)
    monkeypatch.undo()
    reader = CategoryIndex(tmp_path, "top", ANNOY)
    assert reader.manifest.count == 2000
    assert reader.query(late[0], 1)[0].id == 77_777


def test_an_empty_build_is_filled_by_the_delta(tmp_path: Path, base: np.ndarray) -> None:
    projecting = IndexConfig(annoy_dim=DIM // 2)
    build_index(tmp_path, "dress", [], np.zeros((0, DIM)), encoder_id=ENC, config=projecting)
    index = CategoryIndex(tmp_path, "dress", ANNOY)
    assert index.manifest.annoy_dim is None  # no rows to fit a projection on
    assert index.query(base[0], 5) == []
    index.add([5, 6], base[:2], encoder_id=ENC)
    assert [n.id for n in index.query(base[1], 5)] == [6, 5]


def test_projected_annoy_stage_keeps_recall(
    tmp_path: Path, base: np.ndarray, data: ClusteredData
) -> None:
    config = IndexConfig(annoy_dim=24, exact_below=0)
    manifest = build_index(
        tmp_path, "top", np.arange(len(base)), base, encoder_id=ENC, config=config
    )
    assert manifest.annoy_dim == 24 and manifest.metric == "euclidean"
    index = CategoryIndex(tmp_path, "top", config)
    queries = data.points(0, 100, stream=3, noise=0.25)
    truth = exact_top_k(base, queries, 10)
    hits = sum(
        len({n.id for n in index.query(q, 10)} & set(t.tolist()))
        for q, t in zip(queries, truth, strict=True)
    )
    assert hits / 1000 >= 0.9
    found = index.query(base[5], 3)
    assert found[0].id == 5 and found[0].score == pytest.approx(1.0, abs=1e-5)


def test_by_default_256_dimension_vectors_get_a_euclidean_forest_on_a_64_dimension_projection(
    tmp_path: Path,
) -> None:
    vectors = ClusteredData(dim=256, clusters=10, seed=2).points(0, 600)
    manifest = build_index(tmp_path, "top", np.arange(600), vectors, encoder_id=ENC)
    assert (manifest.dim, manifest.annoy_dim, manifest.metric) == (256, 64, "euclidean")
    assert (tmp_path / "top" / "versions" / manifest.version / "projection.npy").exists()
    found = CategoryIndex(tmp_path, "top", ANNOY).query(vectors[3], 1)
    assert found[0].id == 3 and found[0].score == pytest.approx(1.0, abs=1e-5)


def test_vectors_no_longer_than_annoy_dim_get_an_angular_forest_on_themselves(
    tmp_path: Path, base: np.ndarray
) -> None:
    manifest = build_index(
        tmp_path,
        "top",
        np.arange(len(base)),
        base,
        encoder_id=ENC,
        config=IndexConfig(annoy_dim=DIM),
    )
    assert (manifest.annoy_dim, manifest.metric) == (None, "angular")
    found = CategoryIndex(tmp_path, "top", ANNOY).query(base[7], 1)
    assert found[0].id == 7 and found[0].score == pytest.approx(1.0, abs=1e-5)


def test_a_projected_index_built_with_the_earlier_dot_metric_still_answers(
    tmp_path: Path, base: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_metric = store._metric
    with monkeypatch.context() as patched:  # what builds wrote before euclidean
        patched.setattr(store, "_metric", lambda name: real_metric("dot"))
        manifest = build_index(
            tmp_path,
            "top",
            np.arange(len(base)),
            base,
            encoder_id=ENC,
            config=IndexConfig(annoy_dim=DIM // 2),
        )
    assert manifest.metric == "dot"
    found = CategoryIndex(tmp_path, "top", ANNOY).query(base[11], 3)
    assert found[0].id == 11 and found[0].score == pytest.approx(1.0, abs=1e-5)


def test_bad_input_is_refused_with_a_clear_message(tmp_path: Path, base: np.ndarray) -> None:
    with pytest.raises(IndexNotBuiltError, match="build one first"):
        CategoryIndex(tmp_path, "outer", ANNOY).query(base[0], 5)
    with pytest.raises(ValueError, match="unique"):
        build_index(tmp_path, "top", [1, 1], base[:2], encoder_id=ENC)
    with pytest.raises(ValueError, match="zero vector"):
        build_index(tmp_path, "top", [1, 2], np.zeros((2, DIM)), encoder_id=ENC)
    with pytest.raises(ValueError, match="NaN"):
        build_index(tmp_path, "top", [1], np.full((1, DIM), np.nan), encoder_id=ENC)
    with pytest.raises(ValueError, match="2 ids for 3"):
        build_index(tmp_path, "top", [1, 2], base[:3], encoder_id=ENC)
    assert current_manifest(tmp_path, "top") is None  # nothing was published
    build_index(tmp_path, "top", [1, 2], base[:2], encoder_id=ENC)
    index = CategoryIndex(tmp_path, "top", ANNOY)
    with pytest.raises(ValueError, match="dimension 3"):
        index.query([1.0, 0.0, 0.0], 5)
    with pytest.raises(ValueError, match="dimension 3"):
        index.add([3], [[1.0, 0.0, 0.0]], encoder_id=ENC)
    with pytest.raises(ValueError, match="category"):
        CategoryIndex(tmp_path, "../etc")


def test_store_serves_each_category_from_its_own_index(tmp_path: Path, base: np.ndarray) -> None:
    build_index(tmp_path, "top", [1, 2], base[:2], encoder_id=ENC)
    build_index(tmp_path, "bottom", [3, 4], base[:2], encoder_id=ENC)
    indexes = IndexStore(tmp_path, ANNOY)
    assert indexes.query("top", base[0], 1)[0].id == 1
    assert indexes.query("bottom", base[0], 1)[0].id == 3
    assert indexes.category("top") is indexes.category("top")


def test_a_small_index_is_searched_exactly(
    tmp_path: Path, base: np.ndarray, data: ClusteredData
) -> None:
    build_index(tmp_path, "top", np.arange(len(base)), base, encoder_id=ENC)
    index = CategoryIndex(tmp_path, "top", IndexConfig(exact_below=len(base)))
    queries = data.points(0, 50, stream=3, noise=0.25)
    truth = exact_top_k(base, queries, 10)
    for q, expected in zip(queries, truth, strict=True):
        assert [n.id for n in index.query(q, 10)] == expected.tolist()


def test_another_process_adding_and_rebuilding_is_seen_without_a_restart(
    tmp_path: Path, base: np.ndarray
) -> None:
    from tests.support import run_python

    build_index(tmp_path, "top", np.arange(1000), base[:1000], encoder_id=ENC)
    reader = CategoryIndex(tmp_path, "top", ANNOY)
    reader.load()
    np.save(tmp_path / "new.npy", base[3000:3001])
    worker = run_python(
        "import numpy as np; from pathlib import Path; from ml.index import CategoryIndex\n"
        f"root = Path({str(tmp_path)!r})\n"
        "CategoryIndex(root, 'top').add([424242], np.load(root / 'new.npy'), "
        f"encoder_id={ENC!r})\n",
        env={},
    )
    assert worker.returncode == 0, worker.stderr
    assert reader.query(base[3000], 1)[0].id == 424242  # a worker's new product, at once

    builder = run_python(
        "import numpy as np; from pathlib import Path; from ml.index import build_index\n"
        f"root = Path({str(tmp_path)!r})\n"
        "v = np.load(root / 'new.npy')\n"
        f"build_index(root, 'top', [7], v, encoder_id={ENC!r})\n",
        env={},
    )
    assert builder.returncode == 0, builder.stderr
    assert reader.manifest.count == 1  # the new build, picked up by the running reader
    # a build's input is the whole truth: delta entries made before it started are not kept
    assert [n.id for n in reader.query(base[3000], 2)] == [7]


def test_the_candidate_pool_grows_with_the_index() -> None:
    config = IndexConfig(search_k=2500, search_k_per_item=0.03)
    assert config.first_search_k(10_000) == 2500  # the floor
    assert config.first_search_k(100_000) == 3000
    assert config.first_search_k(1_000_000) == 30_000
    with pytest.raises(ValueError, match="must not be negative"):
        IndexConfig(search_k_per_item=-0.1)


def test_a_query_asks_annoy_for_the_share_of_the_items_it_is_configured_for(
    built: Path, base: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = CategoryIndex(
        built, "top", IndexConfig(exact_below=0, search_k=10, search_k_per_item=0.5)
    )
    index.load()
    forest = index._current().version.forest
    asked: list[int] = []
    real = forest.get_nns_by_vector

    class Recording:
        def get_nns_by_vector(self, vector: object, n: int, search_k: int) -> list[int]:
            asked.append(search_k)
            return list(real(vector, n, search_k=search_k))

    monkeypatch.setattr(index._current().version, "forest", Recording())
    assert len(index.query(base[0], 10)) == 10
    assert asked[0] == len(base) // 2
