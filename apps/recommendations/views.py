from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.closet.views import UploadThrottle
from apps.recommendations import selectors, services
from apps.recommendations.models import Search
from apps.recommendations.serializers import SearchCreateSerializer, SearchSerializer
from backend.api.errors import ApplicationError
from backend.processing import ProcessingStatus


def read_photo(photo: Any) -> bytes:
    if photo.size > settings.UPLOAD_MAX_BYTES:
        raise ApplicationError(
            f"The photo is {photo.size / 1e6:.1f} MB; the largest accepted is "
            f"{settings.UPLOAD_MAX_BYTES / 1e6:.1f} MB.",
            code="image_too_large",
        )
    return bytes(photo.read())


class SearchViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Search]
):
    """Shop the look: upload a photo, get the people and garments found in it."""

    serializer_class = SearchSerializer
    queryset = Search.objects.none()  # for the schema; requests use get_queryset()
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [UploadThrottle]
    throttle_scope = "uploads"
    kind = Search.Kind.SEARCH

    def get_queryset(self) -> QuerySet[Search]:
        if getattr(self, "swagger_fake_view", False):
            return Search.objects.none()
        return selectors.search_list(user=self.request.user, kind=self.kind)  # type: ignore[arg-type]

    @extend_schema(
        request=SearchCreateSerializer,
        responses={200: SearchSerializer, 202: SearchSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Upload a photo (optional box and category). 202 with the search ``pending``;
        with ``wait`` (seconds, at most 8) it answers 200 as soon as the search is done."""
        form = SearchCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        search = services.search_create(
            user=request.user,  # type: ignore[arg-type]
            photo=read_photo(data["photo"]),
            kind=self.kind,
            box=data.get("box"),
            category=data.get("category") or "",
        )
        if data.get("wait"):
            search = services.search_wait(search=search, seconds=data["wait"])
        done = search.status in (ProcessingStatus.READY, ProcessingStatus.FAILED)
        body = SearchSerializer(
            selectors.search_get(user=search.user, search_id=search.pk, kind=self.kind),
            context={"request": request},
        ).data
        return Response(body, status=status.HTTP_200_OK if done else status.HTTP_202_ACCEPTED)
