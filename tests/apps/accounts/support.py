"""Kakao faked at the HTTP layer (``responses``), id_tokens signed with our own RSA keys,
and the app's side of the conversation: real headless endpoints, real JWTs."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from apps.accounts.kakao.client import (
    ACCESS_TOKEN_INFO_URL,
    ISSUER,
    JWKS_URL,
    USER_ME_URL,
)

APP_ID = "1234567"
NATIVE_APP_KEY = "native-app-key-0123456789abcdef"
REST_API_KEY = "rest-api-key-0123456789abcdef"
KAKAO_TIMEOUT = 2.5
KAKAO_KID = "kakao-test-key-1"

PROVIDER_TOKEN_URL = "/_allauth/app/v1/auth/provider/token"
REFRESH_URL = "/_allauth/app/v1/tokens/refresh"
SESSION_URL = "/_allauth/app/v1/auth/session"
LOGIN_URL = "/_allauth/app/v1/auth/login"
SIGNUP_URL = "/_allauth/app/v1/auth/signup"
ME_URL = "/api/v1/me"


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return jwk


@dataclass
class FakeKakao:
    """Kakao's servers as the tests need them: token info, profile and JWKS answers."""

    mock: responses.RequestsMock
    signing_key: rsa.RSAPrivateKey

    def jwks(self, *keys: dict[str, Any]) -> None:
        self.mock.get(
            JWKS_URL, json={"keys": list(keys) or [public_jwk(self.signing_key, KAKAO_KID)]}
        )

    def access_token(
        self,
        token: str,
        *,
        kakao_id: int,
        app_id: int | str = APP_ID,
        nickname: str = "민아",
        email: str | None = None,
        email_verified: bool = True,
    ) -> None:
        """Kakao knows ``token``: issued to ``app_id`` for user ``kakao_id``."""
        auth = responses.matchers.header_matcher({"Authorization": f"Bearer {token}"})
        self.mock.get(
            ACCESS_TOKEN_INFO_URL,
            json={"id": kakao_id, "expires_in": 7199, "app_id": int(app_id)},
            match=[auth],
        )
        account: dict[str, Any] = {"profile": {"nickname": nickname}}
        if email:
            account.update(
                {"email": email, "is_email_valid": True, "is_email_verified": email_verified}
            )
        self.mock.get(
            USER_ME_URL,
            json={
                "id": kakao_id,
                "connected_at": "2026-11-01T00:00:00Z",
                "properties": {"nickname": nickname},
                "kakao_account": account,
            },
            match=[auth],
        )

    def id_token(
        self,
        *,
        kakao_id: int,
        aud: str = NATIVE_APP_KEY,
        iss: str = ISSUER,
        expires_in: int = 3600,
        key: rsa.RSAPrivateKey | None = None,
        kid: str = KAKAO_KID,
        nickname: str = "민아",
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": iss,
            "aud": aud,
            "sub": str(kakao_id),
            "iat": now - 10,
            "auth_time": now - 10,
            "exp": now + expires_in,
            "nickname": nickname,
            "nonce": uuid.uuid4().hex,
        }
        return jwt.encode(claims, key or self.signing_key, algorithm="RS256", headers={"kid": kid})

    def calls_to(self, url: str) -> int:
        return sum(1 for call in self.mock.calls if call.request.url.split("?")[0] == url)


# --- the app's side of the conversation ------------------------------------------------


def post_json(url: str, body: dict[str, Any], *, bearer: str | None = None) -> Any:
    """A fresh client each time, like a phone: no cookies, only what it sends."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"} if bearer else {}
    return Client().post(url, data=body, content_type="application/json", **headers)


def kakao_login(token: dict[str, str]) -> Any:
    return post_json(PROVIDER_TOKEN_URL, {"provider": "kakao", "process": "login", "token": token})


def api(method: str, url: str, *, bearer: str | None = None, body: Any = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"} if bearer else {}
    client = Client()
    call = getattr(client, method.lower())
    if body is not None:
        return call(url, data=body, content_type="application/json", **headers)
    return call(url, **headers)


def tokens_of(response: Any) -> tuple[str, str]:
    """The access and refresh token from a successful headless login."""
    assert response.status_code == 200, response.content
    meta = response.json()["meta"]
    return meta["access_token"], meta["refresh_token"]


def error_codes(response: Any) -> list[str]:
    return [error["code"] for error in response.json().get("errors", [])]
