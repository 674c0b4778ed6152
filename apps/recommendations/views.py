from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog.models import Shop
from apps.catalog.serializers import ShopSerializer
from apps.recommendations import recommend, selectors, services
from apps.recommendations.models import Search
from apps.recommendations.rendering import product_cards, recommendation_list
from apps.recommendations.serializers import (
    FeedbackSerializer,
    GarmentSerializer,
    RecommendationQuerySerializer,
    SearchCreateSerializer,
    SearchSerializer,
)
from backend.api.errors import ApplicationError, NotFoundError
from backend.api.pagination import PageNumberPagination
from backend.api.throttling import UploadThrottle
from backend.processing import ProcessingStatus
from config.taxonomy import styles


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


class LookViewSet(SearchViewSet):
    """The wannabe look: a photo of a look the user wants, compared with their closet."""

    kind = Search.Kind.LOOK

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The look's garments, each with the closest closet item and whether the user owns
        it; missing ones come with recommendations; ``owned_share`` is how much of the look
        the user already has."""
        search = self.get_object()
        user = request.user
        key = selectors.look_key(user=user, search=search, audience=request.get_host())  # type: ignore[arg-type]
        return Response(selectors.cached_answer(key, lambda: self._body(request, search)))

    def _body(self, request: Request, search: Search) -> dict[str, Any]:
        body = dict(SearchSerializer(search, context={"request": request}).data)
        body["comparison"] = None
        if search.status == ProcessingStatus.READY:
            report, coverage = selectors.look_get(user=request.user, search=search)  # type: ignore[arg-type]
            body["comparison"] = {
                "owned_share": coverage,
                "garments": [
                    {
                        "garment_id": g.garment_id,
                        "closest_item_id": g.closest_item_id,
                        "similarity": g.similarity,
                        "owned": g.owned,
                        "recommendations": recommendation_list(g.recommendations, request),
                    }
                    for g in report
                ],
            }
        return body


class GarmentRecommendationsView(APIView):
    """Products like a garment of one of the user's searches, minus what they own."""

    @extend_schema(parameters=[RecommendationQuerySerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, garment_id: int, version: str | None = None) -> Response:
        garment = selectors.garment_get(user=request.user, garment_id=garment_id)  # type: ignore[arg-type]
        if garment is None:
            raise NotFoundError("No such garment.")
        form = RecommendationQuerySerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        query = form.validated_data
        arguments = {
            "user": request.user,
            "garment": garment,
            "filters": recommend.RecommendationFilters(
                price_min=query.get("price_min"),
                price_max=query.get("price_max"),
                shop_id=query.get("shop"),
                on_air=query.get("on_air"),
            ),
            "limit": query["limit"],
            "include_owned": query["include_owned"],
        }

        def build() -> dict[str, Any]:
            answer = selectors.garment_recommendations(**arguments)
            return {
                "garment": GarmentSerializer(garment, context={"request": request}).data,
                **recommendation_list(answer, request),
            }

        key = selectors.garment_recommendations_key(**arguments, audience=request.get_host())
        return Response(selectors.cached_answer(key, build))


class GarmentStyleShopsView(APIView):
    """The 3 shops whose mood leans most to the garment's dominant style, 3 products each."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, garment_id: int, version: str | None = None) -> Response:
        garment = selectors.garment_get(user=request.user, garment_id=garment_id)  # type: ignore[arg-type]
        if garment is None:
            raise NotFoundError("No such garment.")
        user = request.user
        key = selectors.garment_style_shops_key(
            user=user,
            garment=garment,  # type: ignore[arg-type]
            audience=request.get_host(),
        )
        return Response(selectors.cached_answer(key, lambda: self._body(request, garment)))

    def _body(self, request: Request, garment: Any) -> dict[str, Any]:
        dominant, matches = selectors.garment_style_shops(user=request.user, garment=garment)  # type: ignore[arg-type]
        shops = {s.pk: s for s in Shop.objects.filter(pk__in=[m.shop_id for m in matches])}
        return {
            "garment_id": garment.pk,
            "dominant_style": dominant,
            "shops": [
                {
                    **ShopSerializer(shops[m.shop_id], context={"request": request}).data,
                    "style_share": m.share,
                    "products": product_cards(m.products, request),
                }
                for m in matches
            ],
        }


class ProductFeedbackView(APIView):
    """ "I own this" or "not interested" on a product: every later answer changes at once."""

    @extend_schema(request=FeedbackSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, product_id: int, version: str | None = None) -> Response:
        form = FeedbackSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        feedback = services.product_feedback_add(
            user=request.user,  # type: ignore[arg-type]
            product_id=product_id,
            kind=form.validated_data["kind"],
        )
        return Response(
            {"product_id": product_id, "kind": feedback.kind, "created_at": feedback.created_at},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(parameters=[FeedbackSerializer], responses={204: None})
    def delete(self, request: Request, product_id: int, version: str | None = None) -> Response:
        form = FeedbackSerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        services.product_feedback_remove(
            user=request.user,  # type: ignore[arg-type]
            product_id=product_id,
            kind=form.validated_data["kind"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedView(APIView):
    """Products for the user's style, not owned or dismissed, spread across categories and
    shops; paginated (the first page's first items serve as banners)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, version: str | None = None) -> Response:
        ranked = selectors.user_feed(user=request.user)  # type: ignore[arg-type]
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(ranked, request, view=self) or []  # type: ignore[arg-type]
        items = [
            recommend.Recommendation(product_id=pk, crop_id=0, similarity=0.0, style_match=score)
            for pk, score in page
        ]
        return paginator.get_paginated_response(product_cards(items, request))


class StyleProfileView(APIView):
    """The user's style: 23 numbers from their closet, with the top styles."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, version: str | None = None) -> Response:
        profile = recommend.user_style_profile(user=request.user)  # type: ignore[arg-type]
        return Response(
            {
                "styles": dict(zip(styles(), profile.scores, strict=True)),
                "top": [{"style": s, "score": round(v, 4)} for s, v in profile.top(3)],
                "source": profile.source,
                "closet_items": profile.items,
            }
        )
