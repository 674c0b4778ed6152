"""One JSON error shape for the whole API, produced by one exception handler.

Every error the API answers looks like::

    {"error": {"code": "not_found", "message": "Not found.", "details": {}}}

``code`` is stable and meant for the app's logic; ``message`` is for a person;
``details`` carries field errors for a 400 (``{"field": ["message", ...]}``) or other
context (``retry_after`` for a 429).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """Base of the errors services raise; the handler renders them in the API's shape."""

    status_code = 400
    code = "invalid_request"
    default_message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        code: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        if code:
            self.code = code
        super().__init__(self.message)


class NotFoundError(ApplicationError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class ConflictError(ApplicationError):
    status_code = 409
    code = "conflict"
    default_message = "The resource is not in a state that allows this."


class ServiceUnavailableError(ApplicationError):
    status_code = 503
    code = "service_unavailable"
    default_message = "A service this request needs is unavailable; try again shortly."


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        text = _first_message(value)
        return text if key == "non_field_errors" else f"{key}: {text}"
    return str(detail)


_CODES: dict[type[drf.APIException], str] = {
    drf.ValidationError: "validation_error",
    drf.ParseError: "malformed_request",
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "authentication_failed",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "throttled",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: every exception becomes the one error shape."""
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = drf.ValidationError(detail=exc.messages)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("api.unhandled_error view=%s", type(view).__name__ if view else None)
        return Response(
            error_body("server_error", "Something went wrong on our side; it has been logged."),
            status=500,
        )

    assert isinstance(exc, drf.APIException)
    code = next((c for klass, c in _CODES.items() if isinstance(exc, klass)), None)
    code = code or (exc.default_code if isinstance(exc.default_code, str) else "error")
    details: dict[str, Any] = {}
    if isinstance(exc, drf.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = "The request has invalid fields: " + _first_message(exc.detail)
    else:
        message = _first_message(exc.detail)
    if isinstance(exc, drf.Throttled) and exc.wait is not None:
        details["retry_after"] = int(exc.wait + 0.999)
    response.data = error_body(code, message, details)
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """URLs that match nothing: the API's shape under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse(
            error_body("not_found", f"No endpoint at {request.path}. See /api/docs/."), status=404
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())


def api_not_found(request: HttpRequest, path: str = "", version: str | None = None) -> HttpResponse:
    """Catch-all under /api/ so unknown API URLs answer JSON even with DEBUG on."""
    return handler404(request)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side; it has been logged."),
            status=500,
        )
    from django.views.defaults import server_error

    return server_error(request)
