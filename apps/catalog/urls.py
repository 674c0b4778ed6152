from django.urls import path

from apps.catalog.views import ProductDetailView, ProductListView, ShopDetailView, ShopListView

urlpatterns = [
    path("shops", ShopListView.as_view(), name="shop-list"),
    path("shops/<int:pk>", ShopDetailView.as_view(), name="shop-detail"),
    path("products", ProductListView.as_view(), name="product-list"),
    path("products/<int:pk>", ProductDetailView.as_view(), name="product-detail"),
]
