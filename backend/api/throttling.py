"""Throttles shared by the API's upload endpoints."""

from __future__ import annotations

import logging
from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)


class UploadThrottle(ScopedRateThrottle):
    """Per-user limit on photo uploads (``THROTTLE_UPLOADS``); reads are never throttled.

    The counts live in the cache. While the cache is unreachable (Redis restarting) uploads
    are let through rather than refused: a missing count costs less than a lost upload.
    """

    scope_attr = "throttle_scope"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method != "POST":
            return True
        try:
            return super().allow_request(request, view)
        except Exception:  # any cache client error
            logger.warning("throttle.cache_unavailable scope=%s", self.scope, exc_info=True)
            return True
