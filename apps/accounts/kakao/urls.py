# allauth imports every provider's ``urls`` module. This provider has no web (redirect)
# pages: the app signs in with the Kakao SDK and posts the token to the headless endpoint.
from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
