"""The demo client: one page that uses the public API the way the mobile app does."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from config.taxonomy import categories


@require_GET
def demo_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "demo/index.html",
        {
            "password_login": settings.ACCOUNTS_PASSWORD_LOGIN_ENABLED,
            "categories": categories(),
        },
    )
