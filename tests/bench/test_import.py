"""Catalog import throughput (rows/s) for a 10,000-row file, without encoding.

Run: ``make bench PYTEST_ARGS="-k import -s"`` (``BENCH_IMPORT_ROWS`` changes the size).
Each row is committed in its own transaction, as in a real import, against the database
of DATABASE_URL; image processing is only queued (the in-memory broker), not run. Three
passes: rows without images, rows with one local image each (checked, hashed, stored),
and the same file again (nothing changes, nothing is queued).
"""

from __future__ import annotations

import io
import json
import os
import random
from pathlib import Path

import pytest
from PIL import Image

from apps.catalog.imports import catalog_import
from apps.catalog.models import Product, ProductImage
from config.taxonomy import categories, styles

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
DISTINCT_IMAGES = 200


def make_images(folder: Path, rng: random.Random) -> list[str]:
    folder.mkdir()
    names = []
    for i in range(DISTINCT_IMAGES):
        picture = Image.new("RGB", (256, 320), (245, 245, 245))
        colour = tuple(rng.randrange(256) for _ in range(3))
        picture.paste(colour, (48, 40, 208, 280))
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=85)
        (folder / f"{i:03d}.jpg").write_bytes(buffer.getvalue())
        names.append(f"images/{i:03d}.jpg")
    return names


def make_file(path: Path, *, rows: int, images: list[str] | None, rng: random.Random) -> Path:
    with path.open("w") as handle:
        for i in range(rows):
            row = {
                "shop": f"Bench shop {i % 20}",
                "shop_kind": "tv" if i % 20 < 5 else "mall",
                "external_id": f"B{i:06d}",
                "name": f"Bench product {i}",
                "brand": f"Brand {i % 97}",
                "price": 10000 + (i * 137) % 300000,
                "category": categories()[i % 4],
                "style_tags": rng.sample(styles(), k=1 + i % 3),
                "purchase_url": f"https://shop.example.com/p/{i}",
            }
            if images is not None:
                row["images"] = [images[i % len(images)]]
            handle.write(json.dumps(row) + "\n")
    return path


def report(label: str, summary) -> None:
    print(
        f"\n[bench] catalog import, {label}: {summary.rows} rows in {summary.seconds:.1f} s "
        f"= {summary.rows_per_second:.0f} rows/s (created {summary.created}, "
        f"updated {summary.updated}, unchanged {summary.unchanged}, skipped {summary.skipped}, "
        f"images new {summary.images_added})"
    )


def test_import_throughput_without_images(tmp_path):
    path = make_file(tmp_path / "rows.jsonl", rows=ROWS, images=None, rng=random.Random(1))

    summary = catalog_import(path=path)
    report("rows without images", summary)

    assert summary.created == ROWS and summary.skipped == 0
    assert Product.objects.count() == ROWS


def test_import_throughput_with_images_then_repeated(tmp_path):
    rng = random.Random(2)
    images = make_images(tmp_path / "images", rng)
    path = make_file(tmp_path / "rows.jsonl", rows=ROWS, images=images, rng=rng)

    first = catalog_import(path=path)
    report("one local image per row (stored, queued, not encoded)", first)
    again = catalog_import(path=path)
    report("the same file again (nothing changes)", again)

    assert first.created == ROWS and first.images_added == ROWS
    assert again.unchanged == ROWS and again.images_added == 0
    assert ProductImage.objects.count() == ROWS


ENCODE_ROWS = int(os.environ.get("BENCH_IMPORT_ENCODE_ROWS", "2000"))


def test_import_throughput_with_encoding(tmp_path, settings):
    """Import rows with one image each, then analyse every image as the worker does (the
    default models: full-image detector, descriptor encoder): rows/s end to end."""
    import time

    from apps.catalog import services
    from apps.catalog.models import ProcessingStatus
    from ml.registry import get_registry

    settings.INDEX_DIR = tmp_path / "index"
    get_registry().encoder()  # load once, as a worker process does at start
    rng = random.Random(3)
    images = make_images(tmp_path / "images", rng)
    path = make_file(tmp_path / "rows.jsonl", rows=ENCODE_ROWS, images=images, rng=rng)

    imported = catalog_import(path=path)
    started = time.perf_counter()
    for image_id in ProductImage.objects.order_by("pk").values_list("pk", flat=True):
        services.product_image_process(image_id=image_id)
    encoding = time.perf_counter() - started
    total = imported.seconds + encoding
    print(
        f"\n[bench] catalog import with encoding: {ENCODE_ROWS} rows, import "
        f"{imported.seconds:.1f} s + analysis {encoding:.1f} s = {ENCODE_ROWS / total:.1f} rows/s "
        f"(analysis alone {ENCODE_ROWS / encoding:.1f} images/s)"
    )

    ready = ProductImage.objects.filter(status=ProcessingStatus.READY).count()
    assert ready == ENCODE_ROWS
