from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.closet.models import Category, ClosetItem, ClosetSuggestion, Outfit
from backend.storage import file_url
from config.taxonomy import top_styles


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 4,
        "maxItems": 4,
        "example": [40, 60, 380, 520],
    }
)
class BoxField(serializers.Field[list[float], Any, Any, Any]):
    """[x1, y1, x2, y2] in photo pixels: a JSON array, or "x1,y1,x2,y2" in a form field."""

    default_error_messages = {
        "invalid": 'Send the box as [x1, y1, x2, y2] (JSON) or "x1,y1,x2,y2" (form field).',
    }

    def to_internal_value(self, data: Any) -> list[float]:
        if isinstance(data, str):
            text = data.strip()
            try:
                data = json.loads(text) if text.startswith("[") else text.split(",")
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, (list, tuple)) or len(data) != 4:
            self.fail("invalid")
        try:
            return [float(v) for v in data]
        except (TypeError, ValueError):
            self.fail("invalid")
        raise AssertionError("unreachable")

    def to_representation(self, value: list[float]) -> list[float]:
        return value


class SuggestionSerializer(serializers.ModelSerializer[ClosetSuggestion]):
    class Meta:
        model = ClosetSuggestion
        fields = ["id", "box", "category", "score", "accepted_item"]


class ClosetItemSerializer(serializers.ModelSerializer[ClosetItem]):
    photo_url = serializers.SerializerMethodField()
    crop_url = serializers.SerializerMethodField()
    top_styles = serializers.SerializerMethodField()
    suggestions = serializers.SerializerMethodField()

    class Meta:
        model = ClosetItem
        fields = [
            "id",
            "name",
            "notes",
            "category",
            "colour",
            "status",
            "failure_reason",
            "photo_url",
            "photo_width",
            "photo_height",
            "client_box",
            "box",
            "crop_url",
            "encoder",
            "top_styles",
            "style_vector",
            "suggestions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_photo_url(self, item: ClosetItem) -> str | None:
        return file_url(item.photo, self.context.get("request"))

    def get_crop_url(self, item: ClosetItem) -> str | None:
        return file_url(item.crop, self.context.get("request"))

    def get_top_styles(self, item: ClosetItem) -> list[dict[str, Any]]:
        return top_styles(item.style_vector)

    def get_suggestions(self, item: ClosetItem) -> list[dict[str, Any]]:
        pending = [s for s in item.suggestions.all() if s.accepted_item_id is None]
        return SuggestionSerializer(pending, many=True).data  # type: ignore[return-value]


class ClosetItemCreateSerializer(serializers.Serializer[Any]):
    # The type is told by content (check_image_bytes), never by the file name.
    photo = serializers.FileField(required=False, allow_empty_file=True)
    upload_key = serializers.CharField(required=False, max_length=300)
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
    box = BoxField(required=False, allow_null=True)
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("photo")) == bool(attrs.get("upload_key")):
            raise serializers.ValidationError(
                "Send either a photo (multipart) or the upload_key of a direct upload."
            )
        return attrs


class ClosetItemUpdateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    colour = serializers.CharField(required=False, allow_blank=True, max_length=30)


class OutfitSerializer(serializers.ModelSerializer[Outfit]):
    items = serializers.PrimaryKeyRelatedField(many=True, queryset=ClosetItem.objects.none())

    class Meta:
        model = Outfit
        fields = ["id", "name", "occasion", "season", "items", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            # Only the user's own items can be named: another user's id is "does not exist".
            self.fields["items"].child_relation.queryset = ClosetItem.objects.filter(
                user=request.user
            )
