"""Curation in the Django admin: shops, products, their images and crops, index versions.

Every change that has consequences goes through :mod:`apps.catalog.services` (the admin's
``save_*`` hooks call them): a product's new tags move its shop's mood at once, a new
image file is checked like an upload and queued for processing, a crop's fixed category
goes into that category's next index.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from apps.catalog import selectors, services
from apps.catalog.models import (
    Category,
    IndexVersion,
    ProcessingStatus,
    Product,
    ProductCrop,
    ProductImage,
    Shop,
)
from backend.api.errors import ApplicationError
from backend.uploads import check_image_bytes

THUMB = 64
# Typed without a scheme, a shop's address means https (Django 6's default already).
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}

STATUS_COLOURS = {
    ProcessingStatus.PENDING: "#888",
    ProcessingStatus.PROCESSING: "#c80",
    ProcessingStatus.READY: "#080",
    ProcessingStatus.FAILED: "#c00",
}


def _thumbnail(image: ProductImage | None, size: int = THUMB) -> SafeString:
    if image is None or not image.file:
        return mark_safe('<span style="color:#888">no image</span>')
    return format_html(
        '<img src="{}" alt="" style="max-width:{}px;max-height:{}px;object-fit:contain">',
        image.file.url,
        size,
        size,
    )


def image_with_crops(image: ProductImage, width: int = 320) -> SafeString:
    """The image scaled to ``width`` pixels with each crop's box drawn over it (HTML/CSS)."""
    if not image.file:
        return mark_safe("")
    boxes = []
    if image.width and image.height:
        for crop in image.crops.all():
            x1, y1, x2, y2 = crop.box
            boxes.append(
                (
                    f"{100 * x1 / image.width:.2f}",
                    f"{100 * y1 / image.height:.2f}",
                    f"{100 * (x2 - x1) / image.width:.2f}",
                    f"{100 * (y2 - y1) / image.height:.2f}",
                    f"{crop.index}: {crop.category}",
                )
            )
    overlays = format_html_join(
        "",
        '<div class="crop-box" style="position:absolute;left:{}%;top:{}%;width:{}%;'
        'height:{}%;border:2px solid #e0218a;box-sizing:border-box">'
        '<span style="background:#e0218a;color:#fff;font-size:11px;padding:0 3px">{}</span></div>',
        boxes,
    )
    return format_html(
        '<div style="position:relative;display:inline-block;width:{}px">'
        '<img src="{}" alt="" style="width:100%;display:block">{}</div>',
        width,
        image.file.url,
        overlays,
    )


def _status_badge(status: str, reason: str = "") -> SafeString:
    return format_html(
        '<b style="color:{}" title="{}">{}</b>', STATUS_COLOURS.get(status, "#000"), reason, status
    )


def _main_image(product: Product) -> ProductImage | None:
    images = list(product.images.all())
    return next((i for i in images if i.role == ProductImage.Role.MAIN), None) or (
        images[0] if images else None
    )


# --- filters ------------------------------------------------------------------------------------


class OnAirNowFilter(admin.SimpleListFilter):
    title = "on air now"
    parameter_name = "on_air"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "On air now"), ("no", "Not on air")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        window = Q(on_air_start__lte=now, on_air_end__gt=now)
        if self.value() == "yes":
            return queryset.filter(window)
        if self.value() == "no":
            return queryset.exclude(window)
        return queryset


class ImageStatusFilter(admin.SimpleListFilter):
    """Products having at least one image in the chosen status."""

    title = "image status"
    parameter_name = "image_status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(*c,) for c in ProcessingStatus.choices] + [("none", "No image")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "none":
            return queryset.filter(images__isnull=True)
        if value in ProcessingStatus.values:
            return queryset.filter(images__status=value).distinct()
        return queryset


# --- shops -----------------------------------------------------------------------------------


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["logo_thumbnail", "name", "kind", "active_products", "top_styles", "site_url"]
    list_display_links = ["logo_thumbnail", "name"]
    list_filter = ["kind"]
    search_fields = ["name"]
    readonly_fields = ["mood_chart", "mood_product_count", "mood_updated_at", "created_at"]
    fields = ["name", "kind", "site_url", "logo", *readonly_fields]
    formfield_overrides = URL_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Shop]:
        return (
            super()
            .get_queryset(request)
            .annotate(n_active=Count("products", filter=Q(products__is_active=True)))
        )

    @admin.display(description="logo")
    def logo_thumbnail(self, shop: Shop) -> SafeString:
        if not shop.logo:
            return mark_safe("—")
        return format_html('<img src="{}" alt="" style="max-height:40px">', shop.logo.url)

    @admin.display(description="active products", ordering="n_active")
    def active_products(self, shop: Shop) -> int:
        return getattr(shop, "n_active", 0)

    @admin.display(description="top styles")
    def top_styles(self, shop: Shop) -> str:
        ranked = sorted(shop.style_mood.items(), key=lambda kv: -kv[1])
        return ", ".join(f"{s} {v:.0%}" for s, v in ranked[:3] if v > 0) or "—"

    @admin.display(description="style mood")
    def mood_chart(self, shop: Shop) -> SafeString:
        ranked = sorted(shop.style_mood.items(), key=lambda kv: -kv[1])
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td><div style="background:#e0218a;height:10px;width:{}px"></div></td>'
            "<td>{}</td></tr>",
            ((style, round(200 * share), f"{share:.0%}") for style, share in ranked if share > 0),
        )
        return format_html("<table>{}</table>", rows) if rows else mark_safe("no tagged product")


# --- products --------------------------------------------------------------------------------


class ProductImageForm(forms.ModelForm):
    class Meta:
        model = ProductImage
        fields = ["file", "role", "position"]

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if upload and "file" in self.changed_data:
            data = upload.read()
            upload.seek(0)
            try:
                checked = check_image_bytes(data)
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message) from None
            self.instance.content_hash = services.content_hash(data)
            self.instance.width, self.instance.height = checked.width, checked.height
        return upload


class ProductImageFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        mains = sum(
            1
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("role") == ProductImage.Role.MAIN
        )
        if mains > 1:
            raise forms.ValidationError("A product has one main image; mark the others extra.")


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    formset = ProductImageFormSet
    extra = 0
    fields = ["preview", "file", "role", "position", "status_badge", "failure_reason"]
    readonly_fields = ["preview", "status_badge", "failure_reason"]
    show_change_link = True

    @admin.display(description="image and crops")
    def preview(self, image: ProductImage) -> SafeString:
        return image_with_crops(image, width=220) if image.pk else mark_safe("")

    @admin.display(description="status")
    def status_badge(self, image: ProductImage) -> SafeString:
        return _status_badge(image.status, image.failure_reason) if image.pk else mark_safe("")


@admin.action(description="Re-encode the images of the selected products")
def reencode_products(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Product]) -> None:
    ids = ProductImage.objects.filter(product__in=queryset).values_list("pk", flat=True)
    count = services.product_images_reencode(image_ids=list(ids))
    modeladmin.message_user(request, f"{count} image(s) queued for encoding.", messages.SUCCESS)


@admin.action(description="Mark the selected products inactive")
def deactivate_products(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Product]) -> None:
    count = services.products_deactivate(product_ids=list(queryset.values_list("pk", flat=True)))
    modeladmin.message_user(request, f"{count} product(s) marked inactive.", messages.SUCCESS)


@admin.action(description="Rebuild the index now (the selected products' categories)")
def rebuild_index_for_products(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Product]
) -> None:
    categories = sorted(set(queryset.values_list("category", flat=True)))
    queued = services.index_rebuild_enqueue(categories=categories)
    modeladmin.message_user(
        request, f"Index rebuild queued for: {', '.join(queued)}.", messages.SUCCESS
    )


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "thumbnail",
        "name",
        "brand",
        "shop",
        "category",
        "price",
        "styles",
        "image_status",
        "is_active",
        "on_air",
    ]
    list_display_links = ["thumbnail", "name"]
    list_filter = [
        "shop",
        "category",
        ("style_tags", admin.RelatedOnlyFieldListFilter),
        ImageStatusFilter,
        "is_active",
        OnAirNowFilter,
    ]
    list_select_related = ["shop"]
    search_fields = ["name", "brand", "external_id"]
    filter_horizontal = ["style_tags"]
    formfield_overrides = URL_FIELDS
    inlines = [ProductImageInline]
    actions = [reencode_products, deactivate_products, rebuild_index_for_products]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["shop", "external_id", "name", "brand", "category", "is_active"]}),
        ("Price and purchase", {"fields": ["price", "currency", "purchase_url"]}),
        ("Style", {"fields": ["style_tags"]}),
        ("On air (home shopping)", {"fields": ["on_air_start", "on_air_end"]}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).prefetch_related("style_tags", "images")

    @admin.display(description="image")
    def thumbnail(self, product: Product) -> SafeString:
        return _thumbnail(_main_image(product))

    @admin.display(description="styles")
    def styles(self, product: Product) -> str:
        return ", ".join(s.slug for s in product.style_tags.all()) or "—"

    @admin.display(description="images")
    def image_status(self, product: Product) -> SafeString:
        images = list(product.images.all())
        if not images:
            return mark_safe('<span style="color:#888">none</span>')
        return format_html_join(
            " ", "{}", ((_status_badge(i.status, i.failure_reason),) for i in images)
        )

    @admin.display(description="on air", boolean=True)
    def on_air(self, product: Product) -> bool:
        return product.is_on_air

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        # Remember the shop it came from: both shops' moods change when it moves.
        obj._previous_shop_id = (  # type: ignore[attr-defined]
            Product.objects.filter(pk=obj.pk).values_list("shop_id", flat=True).first()
            if change
            else None
        )
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ProductImage:
            return super().save_formset(request, form, formset, change)
        changed = [
            f.instance for f in formset.forms if f.has_changed() and "file" in f.changed_data
        ]
        images = formset.save(commit=False)
        for image in formset.deleted_objects:
            services.product_image_delete(image=image)
        for image in images:
            image.save()
        for image in changed:
            if image.pk and not any(image is d for d in formset.deleted_objects):
                services.product_image_file_changed(image=image)
        return None

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.product_curation_apply(
            product=form.instance,
            previous_shop_id=getattr(form.instance, "_previous_shop_id", None),
        )

    def delete_model(self, request: HttpRequest, obj: Product) -> None:
        shop_id = obj.shop_id
        for image in obj.images.all():
            services.product_image_delete(image=image)
        super().delete_model(request, obj)
        services.shops_mood_recompute(shop_ids=[shop_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        shop_ids = set(queryset.values_list("shop_id", flat=True))
        for image in ProductImage.objects.filter(product__in=queryset):
            services.product_image_delete(image=image)
        super().delete_queryset(request, queryset)
        services.shops_mood_recompute(shop_ids=shop_ids)


# --- images and crops ----------------------------------------------------------------------------


class ProductCropInline(admin.TabularInline):
    model = ProductCrop
    extra = 0
    can_delete = False
    fields = [
        "index",
        "crop_preview",
        "box",
        "category",
        "category_source",
        "encoder_id",
        "style_source",
    ]
    readonly_fields = [
        "index",
        "crop_preview",
        "box",
        "category_source",
        "encoder_id",
        "style_source",
    ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # crops come from processing; curators fix their category

    @admin.display(description="crop")
    def crop_preview(self, crop: ProductCrop) -> SafeString:
        if not crop.file:
            return mark_safe("—")
        return format_html('<img src="{}" alt="" style="max-height:80px">', crop.file.url)

    @admin.display(description="encoder")
    def encoder_id(self, crop: ProductCrop) -> str:
        return crop.encoder_id


@admin.action(description="Re-encode the selected images")
def reencode_images(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ProductImage]
) -> None:
    count = services.product_images_reencode(image_ids=list(queryset.values_list("pk", flat=True)))
    modeladmin.message_user(request, f"{count} image(s) queued for encoding.", messages.SUCCESS)


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "product", "role", "status_badge", "crop_count", "processed_at"]
    list_filter = ["status", "role", "product__shop", "product__category"]
    search_fields = ["product__name", "product__brand", "product__external_id", "content_hash"]
    list_select_related = ["product", "product__shop"]
    readonly_fields = [
        "preview",
        "product",
        "status",
        "failure_reason",
        "attempts",
        "width",
        "height",
        "content_hash",
        "source_url",
        "status_changed_at",
        "processing_started_at",
        "processed_at",
    ]
    fields = ["preview", "product", "role", "position", *readonly_fields[2:]]
    inlines = [ProductCropInline]
    actions = [reencode_images]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # images are added on their product's page or by the import

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductImage]:
        return (
            super().get_queryset(request).annotate(n_crops=Count("crops")).prefetch_related("crops")
        )

    @admin.display(description="image")
    def thumbnail(self, image: ProductImage) -> SafeString:
        return image_with_crops(image, width=THUMB * 2)

    @admin.display(description="image and crops")
    def preview(self, image: ProductImage) -> SafeString:
        return image_with_crops(image, width=480)

    @admin.display(description="status", ordering="status")
    def status_badge(self, image: ProductImage) -> SafeString:
        return _status_badge(image.status, image.failure_reason)

    @admin.display(description="crops", ordering="n_crops")
    def crop_count(self, image: ProductImage) -> int:
        return getattr(image, "n_crops", 0)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Crops are never added or deleted here; a changed category goes through the service.
        formset.new_objects, formset.deleted_objects, formset.changed_objects = [], [], []
        for crop_form in formset.forms:
            if crop_form.instance.pk and "category" in crop_form.changed_data:
                crop = services.crop_category_set(
                    crop=crop_form.instance, category=crop_form.cleaned_data["category"]
                )
                formset.changed_objects.append((crop, ["category"]))


# --- index versions ---------------------------------------------------------------------


@admin.register(IndexVersion)
class IndexVersionAdmin(admin.ModelAdmin):
    list_display = [
        "category",
        "version",
        "encoder",
        "item_count",
        "built_at",
        "build_seconds",
        "is_live",
        "path",
    ]
    list_filter = ["is_live", "category", "encoder"]
    ordering = ["-built_at"]
    change_list_template = "admin/catalog/indexversion/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions are made by building

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        return [
            path(
                "rebuild/",
                self.admin_site.admin_view(self.rebuild_view),
                name="catalog_indexversion_rebuild",
            ),
            *super().get_urls(),
        ]

    def rebuild_view(self, request: HttpRequest) -> HttpResponse:
        """POST ``category`` (or ``all``): queue a rebuild of that index now."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        chosen = request.POST.get("category", "")
        categories = list(Category.values) if chosen == "all" else [chosen]
        queued = services.index_rebuild_enqueue(categories=categories)
        if queued:
            self.message_user(request, f"Index rebuild queued for: {', '.join(queued)}.")
        else:
            self.message_user(request, f"Unknown category {chosen!r}.", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:catalog_indexversion_changelist"))

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        items = selectors.index_items_per_category()
        summary = []
        for category in Category.values:
            live = selectors.index_version_live(category=category)
            summary.append(
                {
                    "category": category,
                    "next_items": items.get(category, 0),
                    "live": live,
                }
            )
        extra_context = {**(extra_context or {}), "index_summary": summary}
        return super().changelist_view(request, extra_context=extra_context)
