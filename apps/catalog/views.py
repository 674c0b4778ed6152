"""The catalog API: read-only, open to anyone.

The catalog is the shops' public marketing content (the same products their own sites
show), so browsing it needs no account: the app can show it before sign-in, and it caches
the same way for everyone. What is personal (closet, searches, the for-you feed) lives in
other endpoints that require login. Writes happen only through the admin and the import.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny

from apps.catalog import selectors
from apps.catalog.models import Product, Shop
from apps.catalog.serializers import (
    ProductDetailSerializer,
    ProductFilterSerializer,
    ProductSerializer,
    ShopDetailSerializer,
    ShopSerializer,
)
from backend.api.errors import NotFoundError


class ShopListView(generics.ListAPIView):
    """Shops (malls and home-shopping channels), by name."""

    permission_classes = [AllowAny]
    serializer_class = ShopSerializer

    def get_queryset(self) -> QuerySet[Shop]:
        return selectors.shop_list()


class ShopDetailView(generics.RetrieveAPIView):
    """One shop with its style mood over the 23 styles."""

    permission_classes = [AllowAny]
    serializer_class = ShopDetailSerializer

    def get_object(self) -> Shop:
        shop = selectors.shop_get(shop_id=self.kwargs["pk"])
        if shop is None:
            raise NotFoundError("No such shop.")
        return shop


@extend_schema(parameters=[ProductFilterSerializer])
class ProductListView(generics.ListAPIView):
    """Active products, newest first, filtered by the query parameters."""

    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    def get_queryset(self) -> QuerySet[Product]:
        params = ProductFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.product_list(filters=params.to_filters())


class ProductDetailView(generics.RetrieveAPIView):
    """One active product with its images (URLs the app can load) and garment boxes."""

    permission_classes = [AllowAny]
    serializer_class = ProductDetailSerializer

    def get_object(self) -> Any:
        product = selectors.product_get(product_id=self.kwargs["pk"])
        if product is None:
            raise NotFoundError("No such product.")
        return product
