"""python manage.py import_catalog: good, bad and repeated files, CSV and JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import responses
from django.core.management import CommandError, call_command

from apps.catalog.models import Product, ProductImage, Shop
from tests.apps.catalog.conftest import image_bytes

pytestmark = pytest.mark.django_db


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def run_import(path: Path, *args: str, capture=None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    if capture is not None:
        with capture(execute=True):
            call_command("import_catalog", str(path), *args, stdout=out, stderr=err)
    else:
        call_command("import_catalog", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def pictures(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "img"
    folder.mkdir()
    names = {}
    for name, colour in {
        "red": (200, 20, 20),
        "blue": (20, 20, 200),
        "green": (20, 200, 20),
    }.items():
        (folder / f"{name}.png").write_bytes(image_bytes(colour))
        names[name] = f"img/{name}.png"
    return names


def good_rows(pictures) -> list[dict]:
    return [
        {
            "shop": "Hyundai Home Shopping",
            "shop_kind": "tv",
            "external_id": "HS-1",
            "name": "Cashmere coat",
            "brand": "Lune",
            "price": 189000,
            "category": "outer",
            "style_tags": ["classic", "sophisticated"],
            "purchase_url": "https://example.com/p/1",
            "on_air_start": "2026-11-21T20:00:00+09:00",
            "on_air_end": "2026-11-21T21:00:00+09:00",
            "images": [pictures["red"], pictures["blue"]],
        },
        {
            "shop": "Street Mall",
            "external_id": "SM-7",
            "name": "Cargo pants",
            "price": "49,000",
            "category": "bottom",
            "style_tags": "street|hiphop",
            "images": [pictures["green"]],
        },
    ]


def test_a_good_file_creates_shops_products_and_queued_images(
    tmp_path, pictures, sent_tasks, django_capture_on_commit_callbacks
):
    path = write_jsonl(tmp_path / "catalog.jsonl", good_rows(pictures))

    out, err = run_import(path, capture=django_capture_on_commit_callbacks)

    assert err == ""
    assert "2 rows" in out and "2 created" in out and "0 skipped" in out
    coat = Product.objects.get(external_id="HS-1")
    assert coat.shop.name == "Hyundai Home Shopping" and coat.shop.kind == "tv"
    assert coat.price == Decimal("189000.00") and coat.currency == "KRW"
    assert sorted(coat.style_tags.values_list("slug", flat=True)) == ["classic", "sophisticated"]
    assert coat.on_air_start.isoformat() == "2026-11-21T11:00:00+00:00"
    roles = list(coat.images.order_by("position").values_list("role", "source_url"))
    assert roles == [("main", pictures["red"]), ("extra", pictures["blue"])]
    pants = Product.objects.get(external_id="SM-7")
    assert pants.price == Decimal("49000.00") and pants.shop.kind == "mall"
    assert len(sent_tasks) == 3  # one processing task per image
    assert Shop.objects.get(name="Street Mall").style_mood["hiphop"] == 1.0


def test_a_repeated_file_changes_nothing_and_encodes_nothing_again(
    tmp_path, pictures, sent_tasks, django_capture_on_commit_callbacks
):
    path = write_jsonl(tmp_path / "catalog.jsonl", good_rows(pictures))
    run_import(path, capture=django_capture_on_commit_callbacks)
    images_before = set(ProductImage.objects.values_list("pk", "file"))
    sent_tasks.clear()

    out, _ = run_import(path, capture=django_capture_on_commit_callbacks)

    assert "0 created, 0 updated, 2 unchanged" in out
    assert "0 new" in out and "3 unchanged" in out
    assert sent_tasks == []
    assert set(ProductImage.objects.values_list("pk", "file")) == images_before


def test_a_changed_row_updates_and_only_its_new_image_is_encoded(
    tmp_path, pictures, sent_tasks, django_capture_on_commit_callbacks
):
    rows = good_rows(pictures)
    path = write_jsonl(tmp_path / "catalog.jsonl", rows)
    run_import(path, capture=django_capture_on_commit_callbacks)
    kept = ProductImage.objects.get(product__external_id="HS-1", role="main")
    sent_tasks.clear()

    rows[0]["price"] = 159000
    rows[0]["images"] = [pictures["red"], pictures["green"]]  # blue replaced by green
    write_jsonl(path, rows)
    out, _ = run_import(path, capture=django_capture_on_commit_callbacks)

    assert "1 updated, 1 unchanged" in out
    coat = Product.objects.get(external_id="HS-1")
    assert coat.price == Decimal("159000.00")
    assert coat.images.count() == 2
    assert coat.images.get(role="main").pk == kept.pk
    new = coat.images.get(role="extra")
    assert sent_tasks == [("worker.tasks.catalog.process_product_image", [new.pk])]


def test_bad_rows_are_reported_with_line_numbers_and_skipped(tmp_path, pictures, sent_tasks):
    good = good_rows(pictures)
    rows = [
        good[0],
        {
            "shop": "Street Mall",
            "external_id": "X-2",
            "name": "Hat",
            "price": 1000,
            "category": "hat",
        },
        "{not json",
        {
            "shop": "Street Mall",
            "external_id": "X-4",
            "name": "Tee",
            "price": -5,
            "category": "top",
            "style_tags": ["glam"],
        },
        {
            "shop": "Street Mall",
            "external_id": "X-5",
            "name": "Tee",
            "price": 1,
            "category": "top",
            "images": ["img/missing.png"],
        },
        good[1],
    ]
    path = write_jsonl(tmp_path / "catalog.jsonl", rows)

    out, err = run_import(path)

    assert "6 rows" in out and "2 created" in out and "4 skipped" in out
    lines = err.strip().splitlines()
    assert lines[0].startswith("line 2: ") and "category: 'hat'" in lines[0]
    assert lines[1].startswith("line 3: ") and "not valid JSON" in lines[1]
    assert lines[2].startswith("line 4: ") and "price" in lines[2] and "glam" in lines[2]
    assert lines[3].startswith("line 5: ") and "missing.png" in lines[3]
    assert set(Product.objects.values_list("external_id", flat=True)) == {"HS-1", "SM-7"}


def test_a_row_failing_midway_leaves_nothing_half_written(tmp_path, pictures, monkeypatch):
    from django.conf import settings

    from apps.catalog import imports

    path = write_jsonl(tmp_path / "catalog.jsonl", good_rows(pictures)[:1])
    media = Path(settings.MEDIA_ROOT)
    files_before = set(media.rglob("*.*"))

    def explode(**kwargs):
        raise imports.RowError("storage went away")

    real_add = imports.services.product_image_add
    calls = []

    def add_then_fail(**kwargs):
        calls.append(1)
        if len(calls) == 2:  # the second image of the row fails after the first was stored
            explode()
        return real_add(**kwargs)

    monkeypatch.setattr(imports.services, "product_image_add", add_then_fail)

    _, err = run_import(path)

    assert "line 1: storage went away" in err
    assert not Product.objects.exists()
    assert not Shop.objects.exists()
    assert not ProductImage.objects.exists()
    assert len(calls) == 2
    assert set(media.rglob("*.*")) == files_before  # the first image's file was removed


def test_dry_run_writes_nothing_and_reports_what_would_happen(tmp_path, pictures, sent_tasks):
    path = write_jsonl(tmp_path / "catalog.jsonl", good_rows(pictures))

    out, _ = run_import(path, "--dry-run")

    assert out.startswith("Dry run (nothing written): 2 rows")
    assert "2 created" in out and "3 new" in out and "2 new shop(s)" in out
    assert not Product.objects.exists() and not Shop.objects.exists()
    assert not ProductImage.objects.exists()


def test_a_csv_file_with_the_documented_columns(tmp_path, pictures):
    path = tmp_path / "catalog.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "shop",
                "external_id",
                "name",
                "brand",
                "price",
                "currency",
                "category",
                "style_tags",
                "images",
                "is_active",
            ]
        )
        writer.writerow(
            [
                "GS Shop",
                "G-1",
                "Knit dress",
                "Mira",
                "79,000",
                "krw",
                "dress",
                "romantic|feminine",
                pictures["red"],
                "yes",
            ]
        )
        writer.writerow(["GS Shop", "G-2", "Denim", "", "abc", "KRW", "bottom", "", "", ""])
        writer.writerow(
            [
                "GS Shop",
                "G-3",
                "Parka",
                "",
                "129000",
                "KRW",
                "outer",
                "military, street",
                "",
                "false",
            ]
        )

    out, err = run_import(path)

    assert "3 rows" in out and "2 created" in out and "1 skipped" in out
    assert err.strip() == "line 3: price: 'abc' is not a number"
    dress = Product.objects.get(external_id="G-1")
    assert dress.currency == "KRW" and dress.images.count() == 1
    parka = Product.objects.get(external_id="G-3")
    assert not parka.is_active
    assert sorted(parka.style_tags.values_list("slug", flat=True)) == ["military", "street"]


def test_a_csv_without_a_required_column_is_refused_before_anything(tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text("shop,name,price\nA,B,1\n")

    with pytest.raises(CommandError, match="external_id"):
        run_import(path)


@responses.activate
def test_images_are_downloaded_with_the_upload_checks(tmp_path, settings):
    settings.CATALOG_IMPORT_MAX_BYTES = 50_000
    responses.get("https://cdn.example.com/ok.png", body=image_bytes(), content_type="image/png")
    responses.get("https://cdn.example.com/gone.png", status=404)
    responses.get("https://cdn.example.com/page.html", body=b"<html>hello</html>")
    responses.get("https://cdn.example.com/huge.png", body=b"\0" * 60_000)
    responses.get("https://cdn.example.com/slow.png", body=requests.ConnectTimeout())
    base = {"shop": "Web", "name": "Tee", "price": 1000, "category": "top"}
    rows = [
        {**base, "external_id": "W1", "images": ["https://cdn.example.com/ok.png"]},
        {**base, "external_id": "W2", "images": ["https://cdn.example.com/gone.png"]},
        {**base, "external_id": "W3", "images": ["https://cdn.example.com/page.html"]},
        {**base, "external_id": "W4", "images": ["https://cdn.example.com/huge.png"]},
        {**base, "external_id": "W5", "images": ["https://cdn.example.com/slow.png"]},
        {**base, "external_id": "W6", "images": ["ftp://cdn.example.com/x.png"]},
    ]
    path = write_jsonl(tmp_path / "web.jsonl", rows)

    out, err = run_import(path)

    assert "1 created" in out and "5 skipped" in out
    lines = err.strip().splitlines()
    assert "answered 404" in lines[0]
    assert "not an image" in lines[1]
    assert "larger than 50000 bytes" in lines[2]
    assert "no answer within" in lines[3] or "download failed" in lines[3]
    assert "only http(s) URLs and file paths" in lines[4]
    image = ProductImage.objects.get()
    assert image.source_url == "https://cdn.example.com/ok.png"
