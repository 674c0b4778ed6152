from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.recommendations import views

router = SimpleRouter(trailing_slash=False)
router.register("searches", views.SearchViewSet, basename="search")
router.register("looks", views.LookViewSet, basename="look")

urlpatterns = [
    *router.urls,
    path(
        "garments/<int:garment_id>/recommendations",
        views.GarmentRecommendationsView.as_view(),
        name="garment-recommendations",
    ),
    path(
        "garments/<int:garment_id>/shops",
        views.GarmentStyleShopsView.as_view(),
        name="garment-shops",
    ),
    path(
        "products/<int:product_id>/feedback",
        views.ProductFeedbackView.as_view(),
        name="product-feedback",
    ),
    path("feed", views.FeedView.as_view(), name="feed"),
    path("me/style", views.StyleProfileView.as_view(), name="me-style"),
]
