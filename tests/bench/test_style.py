"""Style and evaluation benchmarks (quality figures; run by ``make bench``).

- The trained style head against the k-NN vote on synthetic styled garments
  (``train_style --synthetic N``: descriptor embeddings, the renderer's styles as labels,
  a held-out fifth), written to ``var/bench/style-synthetic.json``.
- Category precision@10 and the neighbour confusion of the default encoder on the real
  clothing-small photos (leave-one-out), written to ``var/bench/clothing-small-category.json``;
  skipped where the photos are absent.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from ml.descriptor import DescriptorEncoder
from ml.evaluation import (
    CLOTHING_SMALL_CATEGORIES,
    clothing_small_photos,
    encode_in_batches,
    evaluate_category_precision,
    format_category_report,
    load_rgb,
)

pytestmark = pytest.mark.bench

DATA = Path(os.environ.get("SHARED_DATA", "/work/shared/data")) / "clothing-small"
OUT = Path(os.environ.get("BENCH_OUT", "var/bench"))
GARMENTS = int(os.environ.get("BENCH_STYLE_GARMENTS", "3000"))
EPOCHS = int(os.environ.get("BENCH_STYLE_EPOCHS", "200"))


def test_style_head_against_the_knn_vote_on_synthetic_garments(db):
    OUT.mkdir(parents=True, exist_ok=True)
    report_path = OUT / "style-synthetic.json"
    stdout = StringIO()
    call_command(
        "train_style", "--synthetic", str(GARMENTS), "--epochs", str(EPOCHS),
        "--out", str(OUT / "style-synthetic.pt"), "--metrics-json", str(report_path),
        stdout=stdout, stderr=StringIO(),
    )  # fmt: skip
    print(stdout.getvalue())
    report = json.loads(report_path.read_text())
    head = report["head"]
    chance_map = np.mean([p / head["n"] for p in head["positives"].values() if p])
    assert head["map"] > 2 * chance_map


def test_default_encoder_category_precision_on_clothing_small():
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent (real photos; see /work/shared/data/README.md)")
    photos = clothing_small_photos(DATA)
    encoder = DescriptorEncoder()
    encoder.load()
    started = time.perf_counter()
    vectors = encode_in_batches(encoder, [load_rgb(p.path) for p in photos])
    seconds = time.perf_counter() - started
    report = evaluate_category_precision(
        vectors,
        [p.label for p in photos],
        [p.category for p in photos],
        k=10,
        encoder=encoder.encoder_id,
        classes=list(CLOTHING_SMALL_CATEGORIES),
    )
    print(format_category_report(report))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "clothing-small-category.json").write_text(
        json.dumps(asdict(report) | {"encode_seconds": seconds}, indent=2)
    )
    # Four categories, unevenly sized: chance is well under 0.5.
    assert report.precision > 0.4


DEMO_PRODUCTS = int(os.environ.get("BENCH_DEMO_PRODUCTS", "480"))


def test_evaluate_retrieval_on_the_demo_catalog(db, settings, tmp_path):
    """evaluate_retrieval end to end: the demo catalog (load_demo's products, default
    detector and descriptor, Annoy indexes) against a worn photo of every product, the
    garment given by its box; written to ``var/bench/retrieval-demo.json``."""
    from apps.catalog.demo import demo_load, demo_products
    from apps.recommendations.retrieval import index_store
    from ml.registry import reset_registry
    from ml.synthetic import render_worn

    settings.INDEX_DIR = tmp_path / "index"
    settings.MEDIA_ROOT = tmp_path / "media"
    index_store.cache_clear()
    reset_registry()
    demo_load(count=DEMO_PRODUCTS)
    lines = []
    for i, item in enumerate(demo_products(DEMO_PRODUCTS)):
        scene = render_worn(item.spec, size=384, scene=i)
        target = next(g for g in scene.garments if g.is_target)
        name = f"q{i:04d}.jpg"
        scene.image.save(tmp_path / name, quality=85)
        lines.append(
            json.dumps(
                {
                    "image": name,
                    "product": item.external_id,
                    "category": item.spec.category,
                    "box": target.box.as_list(),
                }
            )
        )
    queries = tmp_path / "queries.jsonl"
    queries.write_text("\n".join(lines))
    OUT.mkdir(parents=True, exist_ok=True)
    stdout = StringIO()
    call_command(
        "evaluate_retrieval", "--queries", str(queries), "--k", "10",
        "--out", str(OUT / "retrieval-demo.json"), stdout=stdout, stderr=StringIO(),
    )  # fmt: skip
    print(stdout.getvalue())
    index_store.cache_clear()
    report = json.loads((OUT / "retrieval-demo.json").read_text())
    assert report["n_queries"] == DEMO_PRODUCTS
    assert report["index_recall"] is not None
