"""Curation in the admin: pages for staff only, thumbnails and crops, actions, fixes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.models import User
from apps.catalog import services
from apps.catalog.models import IndexVersion, ProcessingStatus, Product, ProductImage
from tests.apps.catalog.conftest import ProductFactory, ShopFactory, image_bytes

pytestmark = pytest.mark.django_db

PAGES = [
    "admin:catalog_shop_changelist",
    "admin:catalog_product_changelist",
    "admin:catalog_productimage_changelist",
    "admin:catalog_indexversion_changelist",
    "admin:catalog_product_add",
    "admin:catalog_shop_add",
]


@pytest.fixture
def catalog(analyser):
    shop = ShopFactory(name="Channel Nine", kind="tv")
    product = ProductFactory(shop=shop, name="Silk blouse", style_tags=["feminine"])
    image = services.product_image_add(product=product, data=image_bytes())
    services.product_image_process(image_id=image.pk)
    services.shop_mood_recompute(shop=shop)
    return shop, product, ProductImage.objects.get(pk=image.pk)


@pytest.mark.parametrize("page", PAGES)
def test_admin_pages_render_for_staff(staff_client, catalog, page):
    response = staff_client.get(reverse(page))
    assert response.status_code == 200


def test_object_pages_render_with_the_image_and_its_crop_boxes(staff_client, catalog):
    shop, product, image = catalog

    product_page = staff_client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    image_page = staff_client.get(reverse("admin:catalog_productimage_change", args=[image.pk]))
    shop_page = staff_client.get(reverse("admin:catalog_shop_change", args=[shop.pk]))

    assert product_page.status_code == image_page.status_code == shop_page.status_code == 200
    assert image.file.url in product_page.content.decode()
    html = image_page.content.decode()
    assert 'class="crop-box"' in html and "0: top" in html
    assert "feminine" in shop_page.content.decode()


def test_product_list_shows_thumbnails_and_filters(staff_client, catalog):
    _, product, image = catalog
    url = reverse("admin:catalog_product_changelist")

    html = staff_client.get(url).content.decode()
    assert f'<img src="{image.file.url}"' in html

    for params in [
        {"q": "blouse"},
        {"q": product.external_id},
        {"category__exact": "top"},
        {"style_tags__slug__exact": "feminine"},
        {"image_status": "ready"},
        {"is_active__exact": "1"},
        {"on_air": "no"},
        {"shop__id__exact": product.shop_id},
    ]:
        response = staff_client.get(url, params)
        assert response.status_code == 200, params
        assert "Silk blouse" in response.content.decode(), params
    assert "Silk blouse" not in staff_client.get(url, {"on_air": "yes"}).content.decode()
    assert "Silk blouse" not in staff_client.get(url, {"image_status": "failed"}).content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_admin_pages_are_refused_to_a_signed_in_non_staff_user(client, user, page):
    client.force_login(user)
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_admin_pages_are_refused_to_anonymous_visitors(client, db):
    response = client.get(reverse("admin:catalog_product_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_staff_without_catalog_permissions_is_refused(client, db):
    clerk = User.objects.create_user(
        email="clerk@example.com", password="pw-clerk-123", is_staff=True
    )
    client.force_login(clerk)
    assert client.get(reverse("admin:catalog_product_changelist")).status_code == 403
    response = client.post(reverse("admin:catalog_indexversion_rebuild"), {"category": "top"})
    assert response.status_code == 403


def test_a_curator_with_catalog_permissions_can_curate(client, catalog):
    curator = User.objects.create_user(email="c@example.com", password="pw-c-12345", is_staff=True)
    curator.user_permissions.set(Permission.objects.filter(content_type__app_label="catalog"))
    client.force_login(curator)
    assert client.get(reverse("admin:catalog_product_changelist")).status_code == 200


def _product_form(product: Product, **overrides) -> dict:
    data = {
        "shop": product.shop_id,
        "external_id": product.external_id,
        "name": product.name,
        "brand": product.brand,
        "category": product.category,
        "is_active": "on",
        "price": str(product.price),
        "currency": product.currency,
        "purchase_url": "",
        "style_tags": [s.slug for s in product.style_tags.all()],
        "on_air_start_0": "",
        "on_air_start_1": "",
        "on_air_end_0": "",
        "on_air_end_1": "",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    images = list(product.images.all())
    data["images-TOTAL_FORMS"] = data["images-INITIAL_FORMS"] = str(len(images))
    for i, image in enumerate(images):
        data.update(
            {
                f"images-{i}-id": image.pk,
                f"images-{i}-product": product.pk,
                f"images-{i}-role": image.role,
                f"images-{i}-position": image.position,
            }
        )
    data.update(overrides)
    return data


def test_a_curators_tag_fix_moves_the_shop_mood_at_once(staff_client, catalog):
    shop, product, _ = catalog
    url = reverse("admin:catalog_product_change", args=[product.pk])

    response = staff_client.post(url, _product_form(product, style_tags=["street", "sporty"]))

    assert response.status_code == 302, response.context["adminform"].form.errors
    shop.refresh_from_db()
    assert shop.style_mood["feminine"] == 0.0
    assert shop.style_mood["street"] == shop.style_mood["sporty"] == 1.0


def test_uploading_an_image_in_the_admin_checks_it_and_queues_it(
    staff_client, catalog, sent_tasks, django_capture_on_commit_callbacks
):
    _, product, _ = catalog
    url = reverse("admin:catalog_product_change", args=[product.pk])
    form = _product_form(product)
    form.update(
        {
            "images-TOTAL_FORMS": "2",
            "images-1-product": product.pk,
            "images-1-role": "extra",
            "images-1-position": "1",
            "images-1-file": SimpleUploadedFile(
                "back.png", image_bytes((10, 200, 10)), "image/png"
            ),
        }
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, form)

    assert response.status_code == 302
    added = product.images.get(role="extra")
    assert added.status == ProcessingStatus.PENDING and added.content_hash
    assert sent_tasks == [("worker.tasks.catalog.process_product_image", [added.pk])]


def test_an_upload_the_checks_refuse_is_refused_in_the_admin_with_the_reason(
    staff_client, catalog, settings
):
    settings.UPLOAD_MAX_PIXELS = 1000  # the same limit the API applies
    _, product, _ = catalog
    form = _product_form(product)
    form.update(
        {
            "images-TOTAL_FORMS": "2",
            "images-1-product": product.pk,
            "images-1-role": "extra",
            "images-1-position": "1",
            "images-1-file": SimpleUploadedFile("big.png", image_bytes(), "image/png"),
        }
    )

    response = staff_client.post(reverse("admin:catalog_product_change", args=[product.pk]), form)

    assert response.status_code == 200  # the form again, with the error
    assert "The image is 64x48 pixels" in response.content.decode()
    assert product.images.count() == 1


def test_the_reencode_action_requeues_the_selected(
    staff_client, catalog, sent_tasks, django_capture_on_commit_callbacks
):
    _, product, image = catalog
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("admin:catalog_product_changelist"),
            {"action": "reencode_products", "_selected_action": [product.pk]},
        )

    assert sent_tasks == [("worker.tasks.catalog.process_product_image", [image.pk])]
    assert ProductImage.objects.get(pk=image.pk).status == ProcessingStatus.PENDING


def test_the_mark_inactive_action(staff_client, catalog):
    shop, product, _ = catalog
    staff_client.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "deactivate_products", "_selected_action": [product.pk]},
    )

    product.refresh_from_db()
    shop.refresh_from_db()
    assert not product.is_active
    assert shop.mood_product_count == 0


def test_rebuild_index_now_queues_the_rebuild(
    staff_client, catalog, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:catalog_indexversion_rebuild"), {"category": "all"}
        )
        staff_client.post(
            reverse("admin:catalog_product_changelist"),
            {"action": "rebuild_index_for_products", "_selected_action": [catalog[1].pk]},
        )

    assert response.status_code == 302
    assert sent_tasks == [
        ("worker.tasks.catalog.rebuild_index", [c])
        for c in ["top", "bottom", "outer", "dress", "top"]
    ]


def test_index_version_page_shows_live_items_and_build_time(staff_client, catalog):
    IndexVersion.objects.create(
        category="top",
        encoder="mean-colour@1",
        version="v-test-1",
        path="/x",
        item_count=412,
        build_seconds=3.25,
        is_live=True,
    )

    html = staff_client.get(reverse("admin:catalog_indexversion_changelist")).content.decode()

    assert "v-test-1" in html and "412" in html and "3.25" in html
    assert 'id="index-summary"' in html


def test_a_curator_fixes_a_crops_category(staff_client, catalog):
    _, _, image = catalog
    crop = image.crops.get()
    url = reverse("admin:catalog_productimage_change", args=[image.pk])
    form = {
        "role": "main",
        "position": "0",
        "crops-TOTAL_FORMS": "1",
        "crops-INITIAL_FORMS": "1",
        "crops-MIN_NUM_FORMS": "0",
        "crops-MAX_NUM_FORMS": "1000",
        "crops-0-id": crop.pk,
        "crops-0-image": image.pk,
        "crops-0-category": "outer",
    }

    response = staff_client.post(url, form)

    assert response.status_code == 302
    crop.refresh_from_db()
    assert crop.category == "outer" and crop.category_source == "curator"
