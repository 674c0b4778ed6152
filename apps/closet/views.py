from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.closet import selectors, services
from apps.closet.models import ClosetItem, Outfit
from apps.closet.serializers import (
    ClosetItemCreateSerializer,
    ClosetItemSerializer,
    ClosetItemUpdateSerializer,
    OutfitSerializer,
)
from backend.api.errors import ApplicationError
from backend.api.throttling import UploadThrottle
from backend.direct_uploads import direct_upload_consume, direct_upload_start


class ClosetItemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[ClosetItem],
):
    """The user's closet: upload photos, watch them become ``ready``, edit, delete."""

    serializer_class = ClosetItemSerializer
    queryset = ClosetItem.objects.none()  # for the schema; requests use get_queryset()
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    throttle_classes = [UploadThrottle]
    throttle_scope = "uploads"

    def get_queryset(self) -> QuerySet[ClosetItem]:
        if getattr(self, "swagger_fake_view", False):
            return ClosetItem.objects.none()
        params = self.request.query_params
        return selectors.closet_item_list(
            user=self.request.user,  # type: ignore[arg-type]
            category=params.get("category", ""),
            status=params.get("status", ""),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("category", str, enum=["top", "bottom", "outer", "dress"]),
            OpenApiParameter("status", str, enum=["pending", "processing", "ready", "failed"]),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ClosetItemCreateSerializer, responses={201: ClosetItemSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Add a garment: a photo (multipart) or the key of a direct upload; optional
        category and box. Answers 201 at once with the item ``pending``."""
        form = ClosetItemCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        if data.get("photo"):
            photo = data.pop("photo")
            if photo.size > settings.UPLOAD_MAX_BYTES:
                raise ApplicationError(
                    f"The photo is {photo.size / 1e6:.1f} MB; the largest accepted is "
                    f"{settings.UPLOAD_MAX_BYTES / 1e6:.1f} MB.",
                    code="image_too_large",
                )
            content = photo.read()
        else:
            content = direct_upload_consume(user=request.user, key=data.pop("upload_key"))
        item = services.closet_item_create(
            user=request.user,  # type: ignore[arg-type]
            photo=content,
            category=data.get("category") or "",
            box=data.get("box"),
            name=data.get("name", ""),
            notes=data.get("notes", ""),
        )
        body = ClosetItemSerializer(item, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=ClosetItemUpdateSerializer, responses=ClosetItemSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = ClosetItemUpdateSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        item = services.closet_item_update(item=self.get_object(), data=form.validated_data)
        return Response(ClosetItemSerializer(item, context={"request": request}).data)

    def perform_destroy(self, instance: ClosetItem) -> None:
        services.closet_item_delete(item=instance)

    @extend_schema(request=None, responses={201: ClosetItemSerializer})
    @action(detail=False, methods=["post"], url_path=r"suggestions/(?P<suggestion_id>\d+)/accept")
    def accept_suggestion(self, request: Request, suggestion_id: str, **kwargs: Any) -> Response:
        """Turn another garment found in a photo into an item of its own."""
        item = services.closet_suggestion_accept(
            user=request.user,  # type: ignore[arg-type]
            suggestion_id=int(suggestion_id),
        )
        body = ClosetItemSerializer(item, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class DirectUploadView(APIView):
    """Start a direct upload of a large photo to storage (S3 presigned POST)."""

    throttle_classes = [UploadThrottle]
    throttle_scope = "uploads"

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer(
                "DirectUpload",
                {
                    "url": serializers.URLField(),
                    "fields": serializers.DictField(child=serializers.CharField()),
                    "key": serializers.CharField(),
                    "max_bytes": serializers.IntegerField(),
                    "expires_in": serializers.IntegerField(),
                },
            )
        },
    )
    def post(self, request: Request, version: str | None = None) -> Response:
        ticket = direct_upload_start(user=request.user)
        return Response(ticket, status=status.HTTP_201_CREATED)


class OutfitViewSet(viewsets.ModelViewSet[Outfit]):
    """The codi book: named sets of the user's closet items."""

    serializer_class = OutfitSerializer
    queryset = Outfit.objects.none()  # for the schema; requests use get_queryset()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Outfit]:
        if getattr(self, "swagger_fake_view", False):
            return Outfit.objects.none()
        return selectors.outfit_list(user=self.request.user)  # type: ignore[arg-type]

    def perform_create(self, serializer: OutfitSerializer) -> None:  # type: ignore[override]
        data = serializer.validated_data
        serializer.instance = services.outfit_create(
            user=self.request.user,  # type: ignore[arg-type]
            name=data["name"],
            items=data.get("items", []),
            occasion=data.get("occasion", ""),
            season=data.get("season", Outfit.Season.ALL),
        )

    def perform_update(self, serializer: OutfitSerializer) -> None:  # type: ignore[override]
        assert serializer.instance is not None
        serializer.instance = services.outfit_update(
            outfit=serializer.instance, data=dict(serializer.validated_data)
        )
