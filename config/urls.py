from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backend.api.errors import api_not_found
from backend.storage import serve_local_media

urlpatterns = [
    path("admin/", admin.site.urls),
    path("_allauth/", include("allauth.headless.urls")),
    path("accounts/", include("allauth.urls")),
    re_path(r"^api/(?P<version>v1)/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("demo/", include("apps.demo.urls")),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    re_path(r"^api/(?P<path>.*)$", api_not_found),
]

urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve_local_media)]

handler404 = "backend.api.errors.handler404"
handler500 = "backend.api.errors.handler500"
