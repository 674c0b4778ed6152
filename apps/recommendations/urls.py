from rest_framework.routers import SimpleRouter

from apps.recommendations.views import SearchViewSet

router = SimpleRouter(trailing_slash=False)
router.register("searches", SearchViewSet, basename="search")

urlpatterns = [*router.urls]
