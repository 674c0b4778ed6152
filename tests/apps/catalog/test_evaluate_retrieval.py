"""manage.py evaluate_retrieval on a catalog built in the test (the real default pipeline)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.catalog import services
from ml.descriptor import DescriptorEncoder
from tests.apps.catalog.conftest import ProductFactory, image_bytes

RUNNING_ENCODER = f"descriptor@{DescriptorEncoder.version}"

COLOURS = {"RED": (200, 30, 30), "GREEN": (30, 180, 40), "BLUE": (30, 40, 200)}


@pytest.fixture
def catalog(settings, tmp_path: Path) -> Iterator[dict[str, bytes]]:
    """Three tops and a bottom, analysed by the default detector and descriptor, indexed."""
    from apps.recommendations.retrieval import index_store
    from ml.registry import reset_registry

    reset_registry()
    settings.INDEX_DIR = tmp_path / "index"
    index_store.cache_clear()
    images = {}
    for external_id, colour in COLOURS.items():
        images[external_id] = image_bytes(colour, size=(96, 96))
        product = ProductFactory(external_id=external_id, category="top")
        image = services.product_image_add(product=product, data=images[external_id])
        services.product_image_process(image_id=image.pk)
    bottom = ProductFactory(external_id="YELLOW", category="bottom")
    image = services.product_image_add(product=bottom, data=image_bytes((220, 200, 20)))
    services.product_image_process(image_id=image.pk)
    services.index_rebuild(category="top")
    services.index_rebuild(category="bottom")
    yield images
    index_store.cache_clear()
    reset_registry()


def test_known_numbers_on_a_constructed_catalog(catalog, tmp_path: Path):
    lines = []
    for external_id, data in catalog.items():
        (tmp_path / f"{external_id}.png").write_bytes(data)
        lines.append({"image": f"{external_id}.png", "product": external_id, "category": "top"})
    # A photo of a product the catalog does not carry: a miss by construction.
    lines.append({"image": "RED.png", "product": "NOT-IN-CATALOG"})
    queries = tmp_path / "queries.jsonl"
    queries.write_text("\n".join(json.dumps(line) for line in lines))
    out = tmp_path / "report.json"
    stdout = StringIO()

    call_command(
        "evaluate_retrieval", "--queries", str(queries), "--k", "4", "--out", str(out),
        stdout=stdout, stderr=StringIO(),
    )  # fmt: skip

    report = json.loads(out.read_text())
    assert report["encoder"] == RUNNING_ENCODER
    assert (report["n_queries"], report["n_gallery"]) == (4, 4)
    # Each catalog photo finds its own product first; the stranger cannot.
    assert report["top1"] == pytest.approx(3 / 4)
    assert report["top5"] == pytest.approx(3 / 4)
    assert report["missing"] == 1
    # 4 neighbours out of a gallery of 3 tops and 1 bottom: 3 of 4 are tops, whatever order.
    assert report["precision_by_category"] == {"top": pytest.approx(0.75)}
    # With four items the index is exact.
    assert report["index_recall"] == pytest.approx(1.0)
    assert set(report["latency_ms"]) == {"encode", "exact", "index"}
    table = stdout.getvalue()
    assert "instance top-1" in table and "75.0%" in table and f"Wrote {out}" in table


def test_a_query_set_with_nothing_to_judge_is_refused(tmp_path: Path, db):
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"image": "a.jpg"}) + "\n")
    with pytest.raises(CommandError, match="needs 'product' or 'category'"):
        call_command("evaluate_retrieval", "--queries", str(queries), stdout=StringIO())


def test_an_empty_catalog_says_to_load_it_first(tmp_path: Path, db):
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"image": "a.jpg", "category": "top"}) + "\n")
    with pytest.raises(CommandError, match="load or re-encode the catalog"):
        call_command("evaluate_retrieval", "--queries", str(queries), stdout=StringIO())
