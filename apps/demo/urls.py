from django.urls import path

from apps.demo.views import demo_page

app_name = "demo"
urlpatterns = [path("", demo_page, name="page")]
