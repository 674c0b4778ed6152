"""manage.py train_style: a head trained on labelled garments, reported and served."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from apps.catalog import services
from apps.recommendations.style import garment_profile
from ml.descriptor import DescriptorEncoder
from ml.registry import reset_registry
from ml.synthetic import render_product_shot, sample_spec
from tests.apps.catalog.conftest import ProductFactory

RUNNING_ENCODER = f"descriptor@{DescriptorEncoder.version}"

STYLE_COUNT = 23


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ML_STYLE_HEAD", raising=False)
    reset_registry()
    yield monkeypatch
    reset_registry()


def train(*args: str) -> str:
    out = StringIO()
    call_command("train_style", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.slow
def test_a_head_trained_on_synthetic_garments_beats_chance_and_serves_through_ml_style_head(
    tmp_path: Path, fresh_registry
):
    head_path, report_path = tmp_path / "style.pt", tmp_path / "report.json"

    output = train(
        "--synthetic", "400", "--epochs", "80", "--out", str(head_path),
        "--metrics-json", str(report_path),
    )  # fmt: skip

    report = json.loads(report_path.read_text())
    head = report["head"]
    assert report["encoder"] == RUNNING_ENCODER and report["validation"] == 80
    # Chance: a random ranking's AP is the style's share of the held-out garments, and a
    # random top-1 hits one of a garment's (1-2) styles about 1.5 times in 23.
    chance_map = np.mean([p / head["n"] for p in head["positives"].values() if p])
    assert head["map"] > 3 * chance_map
    assert head["top1"] > 3 * (1.5 / STYLE_COUNT)
    assert head["top3"] > 2 * (3 * 1.5 / STYLE_COUNT)  # a random top-3: about 0.2
    assert "mAP" in output and f"ML_STYLE_HEAD={head_path.resolve()}" in output

    fresh_registry.setenv("ML_STYLE_HEAD", str(head_path))
    reset_registry()
    from ml.descriptor import DescriptorEncoder

    spec = sample_spec(11, style="military")
    [embedding] = DescriptorEncoder().encode([render_product_shot(spec, size=160).image])
    profile = garment_profile(embedding=embedding, category="outer")

    assert profile.style.source.startswith("style-head@")
    assert profile.category == "outer"
    assert len(profile.style.scores) == STYLE_COUNT


def test_training_from_the_curated_catalog_uses_the_tagged_products(tmp_path: Path, fresh_registry):
    # Product images go through the real pipeline (default detector and descriptor).
    for i in range(24):
        style = ("military", "feminine")[i % 2]
        spec = sample_spec(100 + i, style=style, category="top")
        product = ProductFactory(category="top", style_tags=[style])
        image = services.product_image_add(
            product=product, data=_jpeg(render_product_shot(spec, size=128).image)
        )
        services.product_image_process(image_id=image.pk)
    ProductFactory(category="top")  # untagged: not a training example

    output = train(
        "--epochs", "30", "--out", str(tmp_path / "catalog.pt"), "--val-fraction", "0.25"
    )

    assert (
        f"Training on 18 garments, validating on 6 (the curated catalog, {RUNNING_ENCODER})"
        in output
    )
    assert (tmp_path / "catalog.pt").is_file()


def test_training_from_a_labels_file_reads_images_beside_it(tmp_path: Path, fresh_registry):
    lines = []
    for i in range(20):
        style = ("sporty", "classic")[i % 2]
        name = f"look-{i}.jpg"
        render_product_shot(sample_spec(300 + i, style=style), size=96).image.save(tmp_path / name)
        lines.append(json.dumps({"image": name, "styles": [style], "box": [0, 0, 96, 96]}))
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(lines))

    output = train("--labels", str(labels), "--epochs", "10", "--out", str(tmp_path / "h.pt"))

    assert "validating on 4" in output and (tmp_path / "h.pt").is_file()


def test_a_labels_file_with_an_unknown_style_is_refused(tmp_path: Path, fresh_registry):
    (tmp_path / "labels.json").write_text(json.dumps([{"image": "a.jpg", "styles": ["gothic"]}]))
    with pytest.raises(CommandError, match="unknown style 'gothic'"):
        train("--labels", str(tmp_path / "labels.json"), "--out", str(tmp_path / "h.pt"))
    assert not (tmp_path / "h.pt").exists()


def test_a_catalog_without_tagged_products_says_what_to_do(tmp_path: Path, fresh_registry):
    with pytest.raises(CommandError, match=r"need at least 10.*Tag more products"):
        train("--out", str(tmp_path / "h.pt"))


def _jpeg(image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()
