"""Every API error has one JSON shape: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import pytest


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_400_names_the_invalid_field(auth_client):
    error = assert_error_shape(
        auth_client.patch("/api/v1/me", {"gender": "banana"}, format="json"),
        400,
        "validation_error",
    )
    assert "gender" in error["details"]
    assert "gender" in error["message"]


def test_400_for_a_body_that_is_not_json(auth_client):
    response = auth_client.patch("/api/v1/me", "{not json", content_type="application/json")
    assert_error_shape(response, 400, "malformed_request")


def test_401_for_an_anonymous_request(api_client, db):
    response = api_client.get("/api/v1/me")
    assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_401_for_a_bad_bearer_token(api_client, db):
    response = api_client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_error_shape(response, 401, "authentication_failed")


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v2/health", "/api/whatever"])
def test_404_for_an_unknown_api_url(api_client, db, path):
    error = assert_error_shape(api_client.get(path), 404, "not_found")
    assert path in error["message"]


def test_405_for_a_method_the_endpoint_lacks(api_client, db):
    assert_error_shape(api_client.post("/api/v1/health"), 405, "method_not_allowed")


def test_500_is_answered_in_the_same_shape(auth_client, monkeypatch):
    from apps.accounts import views

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "user_profile_update", explode)
    auth_client.raise_request_exception = False
    response = auth_client.patch("/api/v1/me", {"nickname": "x"}, format="json")

    error = assert_error_shape(response, 500, "server_error")
    assert "boom" not in error["message"]


def test_application_errors_render_their_code_and_status():
    from backend.api.errors import NotFoundError, exception_handler

    response = exception_handler(NotFoundError("No such closet item."), {})

    assert response.status_code == 404
    assert response.data == {
        "error": {"code": "not_found", "message": "No such closet item.", "details": {}}
    }


def test_throttled_errors_carry_retry_after():
    from rest_framework.exceptions import Throttled

    from backend.api.errors import exception_handler

    response = exception_handler(Throttled(wait=12.2), {})

    assert response.status_code == 429
    assert response.data["error"]["code"] == "throttled"
    assert response.data["error"]["details"]["retry_after"] == 13
