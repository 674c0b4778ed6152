from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.catalog.models import Category, Product, ProductCrop, ProductImage, Shop
from apps.catalog.selectors import ProductFilters
from backend.storage import file_url
from config.taxonomy import styles


class ShopSerializer(serializers.ModelSerializer[Shop]):
    logo_url = serializers.SerializerMethodField()
    product_count = serializers.IntegerField(read_only=True)
    top_styles = serializers.SerializerMethodField()

    class Meta:
        model = Shop
        fields = ["id", "name", "kind", "site_url", "logo_url", "product_count", "top_styles"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_logo_url(self, shop: Shop) -> str | None:
        return file_url(shop.logo, self.context.get("request"))

    def get_top_styles(self, shop: Shop) -> list[str]:
        """The shop's three strongest styles (those at least one product carries)."""
        ranked = sorted(shop.style_mood.items(), key=lambda kv: -kv[1])
        return [style for style, share in ranked[:3] if share > 0]


class ShopDetailSerializer(ShopSerializer):
    style_mood = serializers.SerializerMethodField(
        help_text="Share of the shop's active products tagged with each of the 23 styles."
    )

    class Meta(ShopSerializer.Meta):
        fields = [
            *ShopSerializer.Meta.fields,
            "style_mood",
            "mood_product_count",
            "mood_updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "number"}})
    def get_style_mood(self, shop: Shop) -> dict[str, float]:
        return {style: float(shop.style_mood.get(style, 0.0)) for style in styles()}


class ShopBriefSerializer(serializers.ModelSerializer[Shop]):
    class Meta:
        model = Shop
        fields = ["id", "name", "kind"]
        read_only_fields = fields


class CropSerializer(serializers.ModelSerializer[ProductCrop]):
    class Meta:
        model = ProductCrop
        fields = ["id", "box", "category"]
        read_only_fields = fields


class ProductImageSerializer(serializers.ModelSerializer[ProductImage]):
    url = serializers.SerializerMethodField()
    crops = CropSerializer(many=True, read_only=True)

    class Meta:
        model = ProductImage
        fields = ["id", "role", "url", "width", "height", "status", "crops"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, image: ProductImage) -> str | None:
        return file_url(image.file, self.context.get("request"))


class ProductSerializer(serializers.ModelSerializer[Product]):
    shop = ShopBriefSerializer(read_only=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=False)
    style_tags = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField(help_text="The main image.")
    is_on_air = serializers.BooleanField(read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "shop",
            "external_id",
            "name",
            "brand",
            "price",
            "currency",
            "category",
            "style_tags",
            "purchase_url",
            "on_air_start",
            "on_air_end",
            "is_on_air",
            "image_url",
        ]
        read_only_fields = fields

    def get_style_tags(self, product: Product) -> list[str]:
        return [style.slug for style in product.style_tags.all()]

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, product: Product) -> str | None:
        images = list(product.images.all())  # prefetched, ordered by position
        main = next((i for i in images if i.role == ProductImage.Role.MAIN), None)
        chosen = main or (images[0] if images else None)
        return file_url(chosen.file, self.context.get("request")) if chosen else None


class ProductDetailSerializer(ProductSerializer):
    images = ProductImageSerializer(many=True, read_only=True)

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "images", "created_at", "updated_at"]
        read_only_fields = fields


class ProductFilterSerializer(serializers.Serializer[ProductFilters]):
    """Query parameters of the product list."""

    category = serializers.ChoiceField(choices=Category.choices, required=False)
    shop = serializers.IntegerField(required=False, min_value=1, help_text="A shop id.")
    price_min = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, min_value=0
    )
    price_max = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, min_value=0
    )
    style = serializers.CharField(
        required=False, help_text="One style or several separated by commas (any of them)."
    )
    on_air = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only products on air now."
    )
    q = serializers.CharField(
        required=False, max_length=100, help_text="Name, brand or external id."
    )

    def validate_style(self, value: str) -> list[str]:
        chosen = [s.strip().lower() for s in value.split(",") if s.strip()]
        unknown = [s for s in chosen if s not in styles()]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown style(s): {', '.join(unknown)}. Known: {', '.join(styles())}."
            )
        return chosen

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("price_min"), attrs.get("price_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"price_min": "price_min is above price_max."})
        return attrs

    def to_filters(self) -> ProductFilters:
        data = self.validated_data
        return ProductFilters(
            category=data.get("category"),
            shop_id=data.get("shop"),
            price_min=data.get("price_min"),
            price_max=data.get("price_max"),
            styles=tuple(data.get("style") or ()),
            on_air=data.get("on_air"),
            query=data.get("q") or None,
        )
