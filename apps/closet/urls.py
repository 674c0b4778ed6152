from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.closet.views import ClosetItemViewSet, DirectUploadView, OutfitViewSet

router = SimpleRouter(trailing_slash=False)
router.register("closet/items", ClosetItemViewSet, basename="closet-item")
router.register("closet/outfits", OutfitViewSet, basename="outfit")

urlpatterns = [
    path("closet/uploads", DirectUploadView.as_view(), name="closet-upload"),
    *router.urls,
]
