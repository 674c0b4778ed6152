"""Endpoints that belong to no domain: health."""

from __future__ import annotations

import logging
from dataclasses import asdict

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.errors import error_body
from backend.health import models_status, run_checks

logger = logging.getLogger(__name__)


class HealthView(APIView):
    """Database, cache, broker, storage and models: 200 when all are up, 503 otherwise."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []

    @extend_schema(
        responses={
            200: inline_serializer("Health", {"status": serializers.CharField()}),
            503: inline_serializer("Unhealthy", {"status": serializers.CharField()}),
        }
    )
    def get(self, request: Request, version: str | None = None) -> Response:
        results = run_checks()
        down = [name for name, result in results.items() if not result.ok]
        try:
            models = models_status()
        except Exception as exc:  # the cache may be the part that is down
            models = {"error": str(exc)}
        body: dict[str, object] = {
            "status": "ok" if not down else "unavailable",
            "down": down,
            "checks": {name: asdict(result) for name, result in results.items()},
            "models": models,
        }
        if down:
            body.update(error_body("unhealthy", "Down: " + ", ".join(down) + ".", {"down": down}))
            return Response(body, status=503)
        return Response(body)
