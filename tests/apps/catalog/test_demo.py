"""python manage.py load_demo: shops with distinct moods, rendered products, idempotent."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command

from apps.catalog.demo import DEMO_SHOPS, demo_products
from apps.catalog.models import IndexVersion, ProcessingStatus, Product, ProductImage, Shop
from config.taxonomy import styles

pytestmark = pytest.mark.django_db


def load(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_default_demo_has_over_400_products_in_all_four_categories_and_every_style():
    items = list(demo_products(480))

    assert len(items) == 480
    assert Counter(i.spec.category for i in items) == {
        "top": 120,
        "bottom": 120,
        "outer": 120,
        "dress": 120,
    }
    assert {s for i in items for s in i.spec.styles} >= set().union(*(s.styles for s in DEMO_SHOPS))
    assert set().union(*(s.styles for s in DEMO_SHOPS)) == set(styles())


def test_load_demo_creates_encodes_indexes_and_is_idempotent(analyser, settings, tmp_path):
    settings.INDEX_DIR = tmp_path

    first = load("--products", "36")
    again = load("--products", "36")

    assert "36 created" in first and "36 images encoded" in first
    assert "indexes built: top, bottom, outer, dress" in first
    assert "0 created, 0 updated, 36 unchanged" in again and "0 images encoded" in again
    assert analyser.calls == 36  # nothing encoded twice
    assert Product.objects.count() == 36 and ProductImage.objects.count() == 36
    assert not ProductImage.objects.exclude(status=ProcessingStatus.READY).exists()
    assert IndexVersion.objects.filter(is_live=True).count() == 4


def test_after_an_encoder_upgrade_load_demo_encodes_its_images_again(
    analyser, settings, tmp_path, monkeypatch
):
    settings.INDEX_DIR = tmp_path
    load("--products", "12")
    from apps.catalog import services

    monkeypatch.setattr(services, "analyser_encoder_id", lambda: "mean-colour@1")
    assert "0 images encoded" in load("--products", "12")  # still the running encoder

    monkeypatch.setattr(services, "analyser_encoder_id", lambda: "mean-colour@0")
    again = load("--products", "12")

    assert "12 images encoded (12 were of an earlier encoder)" in again
    assert analyser.calls == 24
    assert not ProductImage.objects.exclude(status=ProcessingStatus.READY).exists()


def test_the_default_pipeline_says_which_encoder_it_embeds_with(settings):
    from apps.catalog import services
    from ml.descriptor import DescriptorEncoder

    assert services.analyser_encoder_id() == DescriptorEncoder().encoder_id
    settings.CATALOG_IMAGE_ANALYSER = "tests.apps.catalog.conftest.current_analyser"
    assert services.analyser_encoder_id() is None


def test_images_encoded_by_load_demo_are_not_queued_for_the_worker_as_well(
    analyser, settings, tmp_path, sent_tasks, django_capture_on_commit_callbacks
):
    settings.INDEX_DIR = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        load("--products", "8")
    assert not [name for name, _ in sent_tasks if name.endswith("process_product_image")]

    with django_capture_on_commit_callbacks(execute=True):
        load("--products", "12", "--no-encode")  # four new products, left to the worker
    queued = [name for name, _ in sent_tasks if name.endswith("process_product_image")]
    assert len(queued) == 4


def test_demo_shops_have_distinct_style_moods(analyser, settings, tmp_path):
    settings.INDEX_DIR = tmp_path
    load("--products", "60", "--no-encode")

    tops = {}
    for shop in Shop.objects.all():
        top_style = max(shop.style_mood, key=shop.style_mood.get)
        expected = next(s for s in DEMO_SHOPS if s.name == shop.name).styles
        assert shop.style_mood[top_style] > 0
        assert top_style in expected or any(shop.style_mood[s] > 0 for s in expected)
        tops[shop.name] = tuple(round(shop.style_mood[s], 3) for s in styles())
    assert len(tops) == len(DEMO_SHOPS)
    assert len(set(tops.values())) == len(DEMO_SHOPS)  # no two shops share a mood


def test_without_the_pipeline_the_demo_says_images_stay_queued(settings):
    settings.CATALOG_IMAGE_ANALYSER = "ml.no_such_module.analyse"

    out = load("--products", "6")

    assert "6 created" in out and "Images not encoded here" in out
    assert ProductImage.objects.filter(status=ProcessingStatus.PENDING).count() == 6


@pytest.mark.slow
def test_the_full_demo_loads(analyser, settings, tmp_path):
    settings.INDEX_DIR = tmp_path

    out = load()

    assert "480 created" in out and "480 images encoded" in out
    assert Product.objects.filter(shop__kind="tv", on_air_start__isnull=False).exists()
