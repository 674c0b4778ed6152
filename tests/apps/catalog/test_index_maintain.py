"""Beat's index upkeep: the first build, and rebuilds when the delta passes a size or age."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.catalog import services
from apps.recommendations.retrieval import catalog_neighbours, index_store
from ml.index import current_manifest
from ml.registry import reset_registry
from tests.apps.catalog.conftest import ProductFactory, image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def index_dir(settings, tmp_path):
    settings.INDEX_DIR = tmp_path / "index"
    settings.INDEX_REBUILD_DELTA_SIZE = 3
    settings.INDEX_REBUILD_DELTA_AGE_SECONDS = 600
    index_store.cache_clear()
    reset_registry()
    yield
    index_store.cache_clear()


def add_product(colour, django_capture_on_commit_callbacks):
    product = ProductFactory(category="top")
    with django_capture_on_commit_callbacks(execute=True):
        image = services.product_image_add(product=product, data=image_bytes(colour, (96, 96)))
        services.product_image_process(image_id=image.pk)
    return product


def test_first_build_small_delta_kept_then_rebuilt_by_size_or_age(
    settings, django_capture_on_commit_callbacks
):
    add_product((200, 30, 30), django_capture_on_commit_callbacks)
    assert services.index_maintain() == ["top"]
    first = current_manifest(settings.INDEX_DIR, "top")

    fresh = add_product((30, 30, 200), django_capture_on_commit_callbacks)
    crop = fresh.images.get().crops.get()
    # Findable at once through the delta, without a rebuild.
    found = catalog_neighbours(
        vector=crop_vector(crop),
        encoder_id=f"{crop.encoder}@{crop.encoder_version}",
        categories=["top"],
        k=1,
    )
    assert found[0].id == crop.pk
    assert services.index_maintain() == []
    assert current_manifest(settings.INDEX_DIR, "top").version == first.version

    # Old enough: rebuilt.
    later = timezone.now() + timedelta(seconds=601)
    assert services.index_maintain(now=later) == ["top"]
    second = current_manifest(settings.INDEX_DIR, "top")
    assert second.version != first.version and second.count == 2

    # Big enough: rebuilt at once.
    for colour in [(10, 200, 10), (200, 200, 10), (10, 200, 200)]:
        add_product(colour, django_capture_on_commit_callbacks)
    assert services.index_maintain() == ["top"]
    assert current_manifest(settings.INDEX_DIR, "top").count == 5


def crop_vector(crop):
    import numpy as np

    return np.frombuffer(bytes(crop.embedding), dtype="<f4")
