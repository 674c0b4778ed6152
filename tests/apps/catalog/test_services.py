"""Shop moods, image processing (status, crops, idempotency) and index versions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone

from apps.catalog import services
from apps.catalog.models import IndexVersion, ProcessingStatus, ProductCrop, ProductImage
from backend.api.errors import ApplicationError, ConflictError
from backend.uploads import ImageRejected
from config.taxonomy import styles
from ml.types import Box, Detection
from tests.apps.catalog.conftest import ColourAnalyser, ProductFactory, ShopFactory, image_bytes

pytestmark = pytest.mark.django_db


def add_image(product, colour=(200, 30, 30), **kwargs) -> ProductImage:
    return services.product_image_add(product=product, data=image_bytes(colour), **kwargs)


# --- shop mood -----------------------------------------------------------------------------------


def test_shop_mood_is_the_share_of_active_products_in_each_style():
    shop = ShopFactory()
    ProductFactory(shop=shop, style_tags=["street", "hiphop"])
    ProductFactory(shop=shop, style_tags=["street"])
    ProductFactory(shop=shop, style_tags=["classic"])
    ProductFactory(shop=shop, style_tags=[])

    mood = services.shop_mood_recompute(shop=shop)

    assert len(mood) == 23
    assert mood["street"] == 0.5
    assert mood["hiphop"] == 0.25
    assert mood["classic"] == 0.25
    assert mood["punk"] == 0.0
    shop.refresh_from_db()
    assert shop.mood_product_count == 4
    assert shop.style_mood == mood


def test_shop_mood_follows_a_tag_change_at_once():
    shop = ShopFactory()
    product = ProductFactory(shop=shop, style_tags=["street"])
    services.shop_mood_recompute(shop=shop)

    services.product_style_tags_set(product=product, style_tags=["romantic", "feminine"])

    shop.refresh_from_db()
    assert shop.style_mood["street"] == 0.0
    assert shop.style_mood["romantic"] == 1.0


def test_shop_mood_leaves_out_deactivated_products():
    shop = ShopFactory()
    keep = ProductFactory(shop=shop, style_tags=["modern"])
    drop = ProductFactory(shop=shop, style_tags=["punk"])
    services.shop_mood_recompute(shop=shop)

    services.products_deactivate(product_ids=[drop.pk])

    shop.refresh_from_db()
    assert shop.style_mood["punk"] == 0.0
    assert shop.style_mood["modern"] == 1.0
    assert shop.mood_product_count == 1
    keep.refresh_from_db()
    assert keep.is_active


def test_unknown_style_tags_are_refused_naming_them():
    product = ProductFactory()
    with pytest.raises(ApplicationError, match="glam"):
        services.product_style_tags_set(product=product, style_tags=["street", "glam"])
    assert list(product.style_tags.all()) == []


def test_upsert_reports_created_updated_unchanged():
    shop = ShopFactory()
    data = services.ProductData(
        name="Coat", price=Decimal("99000.00"), category="outer", style_tags=("classic",)
    )

    _, first = services.product_upsert(shop=shop, external_id="X1", data=data)
    _, again = services.product_upsert(shop=shop, external_id="X1", data=data)
    cheaper = services.ProductData(
        name="Coat", price=Decimal("79000.00"), category="outer", style_tags=("classic",)
    )
    product, changed = services.product_upsert(shop=shop, external_id="X1", data=cheaper)

    assert (first, again, changed) == ("created", "unchanged", "updated")
    assert product.price == Decimal("79000.00")
    shop.refresh_from_db()
    assert shop.style_mood["classic"] == 1.0


# --- images --------------------------------------------------------------------------------------


def test_adding_an_image_queues_its_processing_after_commit(
    sent_tasks, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        image = add_image(product)
        assert sent_tasks == []  # nothing leaves before the commit

    assert sent_tasks == [("worker.tasks.catalog.process_product_image", [image.pk])]
    assert image.status == ProcessingStatus.PENDING
    assert image.content_hash and image.width == 64 and image.height == 48


def test_a_bad_image_is_refused_and_nothing_is_stored(sent_tasks):
    product = ProductFactory()
    with pytest.raises(ImageRejected, match="GIF images are not supported"):
        services.product_image_add(product=product, data=b"GIF89a not really")
    assert not ProductImage.objects.exists()


def test_processing_makes_a_ready_image_with_one_crop(analyser):
    product = ProductFactory(category="bottom", style_tags=["street"])
    image = add_image(product, colour=(20, 20, 200))

    status = services.product_image_process(image_id=image.pk)

    image.refresh_from_db()
    assert status == image.status == ProcessingStatus.READY
    assert image.processed_hash == image.content_hash
    assert image.processing_started_at and image.processed_at and image.attempts == 1
    crop = image.crops.get()
    assert crop.box == [0.0, 0.0, 64.0, 48.0]
    assert crop.category == "bottom"
    assert (crop.encoder, crop.encoder_version, crop.embedding_dim) == ("mean-colour", "1", 3)
    assert np.isclose(np.linalg.norm(crop.embedding_array()), 1.0)
    assert crop.file.name.endswith(".jpg")
    assert len(crop.style_vector) == 23 and crop.style_vector[17] == 1.0  # street
    assert crop.style_source == "curated-tags"


def test_processing_twice_does_not_encode_again(analyser):
    image = add_image(ProductFactory())
    services.product_image_process(image_id=image.pk)

    assert services.product_image_process(image_id=image.pk) is None
    assert analyser.calls == 1


def test_an_image_being_processed_by_another_worker_is_left_to_it(analyser):
    image = add_image(ProductFactory())
    ProductImage.objects.filter(pk=image.pk).update(
        status=ProcessingStatus.PROCESSING, processing_started_at=timezone.now()
    )

    assert services.product_image_process(image_id=image.pk) is None
    assert analyser.calls == 0


def test_an_image_stuck_in_processing_is_taken_over(analyser):
    image = add_image(ProductFactory())
    ProductImage.objects.filter(pk=image.pk).update(
        status=ProcessingStatus.PROCESSING,
        processing_started_at=timezone.now() - timedelta(hours=1),
    )

    assert services.product_image_process(image_id=image.pk) == ProcessingStatus.READY


def test_the_sweeper_requeues_a_stuck_image_once_then_fails_it_with_a_reason(
    django_capture_on_commit_callbacks,
):
    from backend.processing import processing_sweep, registered_processables

    kind = next(k for k in registered_processables() if k.model is ProductImage)
    requeued = []
    kind = type(kind)(model=kind.model, enqueue=requeued.append, deadline=kind.deadline)
    image = add_image(ProductFactory())
    stuck = dict(
        status=ProcessingStatus.PROCESSING,
        processing_started_at=timezone.now() - timedelta(hours=1),
    )
    ProductImage.objects.filter(pk=image.pk).update(**stuck)

    with django_capture_on_commit_callbacks(execute=True):
        first = processing_sweep(kind=kind)
    ProductImage.objects.filter(pk=image.pk).update(**stuck)
    second = processing_sweep(kind=kind)

    image.refresh_from_db()
    assert (first.requeued, second.failed) == (1, 1)
    assert requeued == [image.pk]
    assert image.status == ProcessingStatus.FAILED
    assert "did not finish" in image.failure_reason


def test_an_analyser_error_fails_the_image_with_the_reason():
    def broken(data, *, category):
        raise RuntimeError("CUDA out of memory")

    image = add_image(ProductFactory())
    status = services.product_image_process(image_id=image.pk, analyser=broken)

    image.refresh_from_db()
    assert status == image.status == ProcessingStatus.FAILED
    assert "CUDA out of memory" in image.failure_reason
    assert not image.crops.exists()


def test_without_an_analyser_installed_images_fail_naming_the_setting(settings):
    settings.CATALOG_IMAGE_ANALYSER = "ml.no_such_module.analyse"
    image = add_image(ProductFactory())

    services.product_image_process(image_id=image.pk)

    image.refresh_from_db()
    assert image.status == ProcessingStatus.FAILED
    assert "CATALOG_IMAGE_ANALYSER" in image.failure_reason


def test_an_image_where_nothing_is_found_fails_saying_so():
    image = add_image(ProductFactory())
    services.product_image_process(image_id=image.pk, analyser=ColourAnalyser(lambda p, c: []))

    image.refresh_from_db()
    assert image.status == ProcessingStatus.FAILED
    assert image.failure_reason == "No garment was found in the image."


def test_a_product_shot_keeps_the_garment_of_the_products_category():
    def coat_over_trousers(picture, category):
        return [
            Detection(Box(0, 24, 64, 48), "trousers", "bottom", 0.95),
            Detection(Box(8, 0, 56, 30), "coat", "outer", 0.80),
        ]

    image = add_image(ProductFactory(category="outer"))
    services.product_image_process(image_id=image.pk, analyser=ColourAnalyser(coat_over_trousers))

    crop = ProductImage.objects.get(pk=image.pk).crops.get()
    assert crop.box == [8.0, 0.0, 56.0, 30.0]
    assert crop.category == "outer"


def test_reencoding_replaces_crops_and_keeps_a_curators_category(analyser):
    image = add_image(ProductFactory(category="top"))
    services.product_image_process(image_id=image.pk)
    services.crop_category_set(crop=image.crops.get(), category="outer")

    services.product_images_reencode(image_ids=[image.pk])
    services.product_image_process(image_id=image.pk)

    assert analyser.calls == 2
    crop = ProductImage.objects.get(pk=image.pk).crops.get()
    assert crop.category == "outer"
    assert crop.category_source == ProductCrop.CategorySource.CURATOR


def test_a_new_file_with_the_same_bytes_is_not_encoded_again(
    analyser, sent_tasks, django_capture_on_commit_callbacks
):
    image = add_image(ProductFactory())
    services.product_image_process(image_id=image.pk)
    sent_tasks.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.product_image_file_changed(image=ProductImage.objects.get(pk=image.pk))

    assert sent_tasks == []
    assert ProductImage.objects.get(pk=image.pk).status == ProcessingStatus.READY


def test_tag_changes_flow_into_the_crops_style_vectors(analyser):
    product = ProductFactory(style_tags=["street"])
    image = add_image(product)
    services.product_image_process(image_id=image.pk)

    services.product_style_tags_set(product=product, style_tags=["classic", "modern"])

    vector = image.crops.get().style_vector
    assert vector[0] == 0.5 and vector[4] == 0.5 and vector[17] == 0.0


def test_the_task_runs_the_service_end_to_end(
    analyser, worker_runs_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        image = add_image(ProductFactory())

    assert worker_runs_tasks == [("worker.tasks.catalog.process_product_image", [image.pk])]
    assert ProductImage.objects.get(pk=image.pk).status == ProcessingStatus.READY


def test_process_task_is_routed_to_the_vision_queue():
    from worker.routes import route_task

    assert route_task("worker.tasks.catalog.process_product_image", [], {}, {}) == {
        "queue": "vision"
    }
    assert route_task("worker.tasks.catalog.rebuild_index", [], {}, {}) == {"queue": "vision"}


# --- index versions ---------------------------------------------------------------------


def test_rebuilding_an_index_publishes_a_new_live_version(analyser, settings, tmp_path):
    from ml.index import CategoryIndex

    settings.INDEX_DIR = tmp_path
    colours = [(200, 20, 20), (20, 200, 20), (20, 20, 200)]
    tops = [add_image(ProductFactory(category="top"), colour=c) for c in colours]
    hidden = add_image(ProductFactory(category="top", is_active=False), colour=(90, 90, 90))
    for image in [*tops, hidden]:
        services.product_image_process(image_id=image.pk)

    first = services.index_rebuild(category="top")
    second = services.index_rebuild(category="top")

    first.refresh_from_db()
    assert (first.item_count, first.encoder) == (3, "mean-colour@1")  # the inactive one is out
    assert not first.is_live and second.is_live
    assert IndexVersion.objects.filter(category="top", is_live=True).count() == 1
    assert second.path == str(tmp_path / "top" / "versions" / second.version)
    index = CategoryIndex(tmp_path, "top")
    assert index.version == second.version
    blue = ProductCrop.objects.get(image=tops[2])
    [best] = index.query(blue.embedding_array(), k=1)
    assert best.id == blue.pk


def test_a_curator_fixed_category_moves_the_crop_to_that_index(analyser, settings, tmp_path):
    settings.INDEX_DIR = tmp_path
    image = add_image(ProductFactory(category="top"))
    services.product_image_process(image_id=image.pk)
    services.crop_category_set(crop=image.crops.get(), category="dress")

    index = services.index_rebuild(category="dress")

    assert index.item_count == 1
    with pytest.raises(ConflictError, match="nothing to index"):
        services.index_rebuild(category="top")


def test_rebuilding_without_an_index_builder_installed_says_which_setting(
    analyser, settings, tmp_path
):
    settings.INDEX_DIR = tmp_path
    settings.CATALOG_INDEX_BUILDER = "ml.no_such_module.build"
    image = add_image(ProductFactory(category="top"))
    services.product_image_process(image_id=image.pk)

    with pytest.raises(services.PipelineUnavailable, match="CATALOG_INDEX_BUILDER"):
        services.index_rebuild(category="top")
    assert not IndexVersion.objects.exists()


def test_the_rebuild_task_builds_the_index(analyser, settings, tmp_path, worker_runs_tasks):
    settings.INDEX_DIR = tmp_path
    image = add_image(ProductFactory(category="bottom"))
    services.product_image_process(image_id=image.pk)

    from worker.celery import app

    app.send_task("worker.tasks.catalog.rebuild_index", args=["bottom"])

    assert IndexVersion.objects.get(category="bottom").is_live


def test_the_analysers_style_serves_only_untagged_products():
    from ml.types import StyleVector

    def with_style(picture, category):
        w, h = picture.size
        return [Detection(Box(0, 0, w, h), "garment", category, 0.9)]

    class Styled(ColourAnalyser):
        def __call__(self, data, *, category):
            guessed = StyleVector(tuple([0.0] * 22 + [1.0]), tuple(styles()), "style-head@1")
            return [
                services.AnalysedGarment(g.detection, g.embedding, guessed)
                for g in super().__call__(data, category=category)
            ]

    tagged = add_image(ProductFactory(style_tags=["classic"]))
    untagged = add_image(ProductFactory(), colour=(10, 10, 10))
    for image in (tagged, untagged):
        services.product_image_process(image_id=image.pk, analyser=Styled(with_style))

    assert tagged.crops.get().style_source == "curated-tags"
    assert tagged.crops.get().style_vector[0] == 1.0
    assert untagged.crops.get().style_source == "style-head@1"
    assert untagged.crops.get().style_vector[22] == 1.0


def test_a_stored_file_that_no_longer_decodes_fails_with_the_reason():
    from django.core.files.storage import default_storage

    from ml.pipeline import analyse_product_image

    image = add_image(ProductFactory())
    with default_storage.open(image.file.name, "wb") as handle:
        handle.write(b"this was overwritten by something else")

    status = services.product_image_process(image_id=image.pk, analyser=analyse_product_image)

    image.refresh_from_db()
    assert status == ProcessingStatus.FAILED
    assert image.failure_reason.startswith("The stored file is not a usable image")
    assert not image.crops.exists()
