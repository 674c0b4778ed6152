"""Routes of the API, mounted under /api/v1/ (the version is a URL part)."""

from django.urls import include, path

from backend.views import HealthView

app_name = "api"

urlpatterns = [
    path("health", HealthView.as_view(), name="health"),
    path("", include("apps.accounts.urls")),
    path("", include("apps.closet.urls")),
    path("", include("apps.recommendations.urls")),
    path("", include("apps.catalog.urls")),
]
