from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.closet.models import Category
from apps.closet.serializers import BoxField
from apps.recommendations.models import Garment, Search
from backend.storage import file_url
from config.taxonomy import top_styles


class GarmentSerializer(serializers.ModelSerializer[Garment]):
    crop_url = serializers.SerializerMethodField()
    top_styles = serializers.SerializerMethodField()

    class Meta:
        model = Garment
        fields = [
            "id",
            "index",
            "box",
            "category",
            "label",
            "score",
            "person_index",
            "crop_url",
            "top_styles",
            "encoder",
        ]
        read_only_fields = fields

    def get_crop_url(self, garment: Garment) -> str | None:
        return file_url(garment.crop, self.context.get("request"))

    def get_top_styles(self, garment: Garment) -> list[dict[str, Any]]:
        return top_styles(garment.style_vector)


class SearchSerializer(serializers.ModelSerializer[Search]):
    photo_url = serializers.SerializerMethodField()
    garments = GarmentSerializer(many=True, read_only=True)

    class Meta:
        model = Search
        fields = [
            "id",
            "kind",
            "status",
            "failure_reason",
            "photo_url",
            "photo_width",
            "photo_height",
            "client_box",
            "client_category",
            "people",
            "garments",
            "created_at",
        ]
        read_only_fields = fields

    def get_photo_url(self, search: Search) -> str | None:
        return file_url(search.photo, self.context.get("request"))


class SearchCreateSerializer(serializers.Serializer[Any]):
    # The type is told by content (check_image_bytes), never by the file name.
    photo = serializers.FileField(allow_empty_file=True)
    box = BoxField(required=False, allow_null=True)
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
    wait = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=8,
        default=0,
        help_text="Seconds (at most 8) to wait for the result before answering 202.",
    )


class RecommendationQuerySerializer(serializers.Serializer[Any]):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=50, default=10)
    price_min = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, min_value=0
    )
    price_max = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, min_value=0
    )
    shop = serializers.IntegerField(required=False, min_value=1)
    on_air = serializers.BooleanField(required=False, allow_null=True, default=None)
    include_owned = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("price_min"), attrs.get("price_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"price_min": "price_min is above price_max."})
        return attrs


class FeedbackSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=["owned", "not_interested"])
