"""Kakao's servers, as far as the login needs them: who a token belongs to, and for which app.

Two forms of proof come from the Kakao SDK, and both end in one :class:`KakaoIdentity`:

- an **access token**: Kakao is asked which app it was issued to
  (``GET /v1/user/access_token_info``; refused unless its ``app_id`` is ours, so a token
  given to some other app never logs anyone in), then for the profile (``GET /v2/user/me``);
- an **OIDC id_token**: verified here, against Kakao's published keys (JWKS, cached):
  RS256 signature, issuer ``https://kauth.kakao.com``, audience one of our app keys, expiry.

Either way the Kakao user id (``id`` / ``sub``) is the identity, so one Kakao user always
lands on one account. Failures are :class:`KakaoTokenRejected` (the token proves nothing:
401) or :class:`KakaoUnavailable` (Kakao did not answer in time, or answered with an error
on its side: 503); callers never see a raw ``requests`` or ``jwt`` exception.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from django.core.cache import cache

logger = logging.getLogger(__name__)

ACCESS_TOKEN_INFO_URL = "https://kapi.kakao.com/v1/user/access_token_info"  # noqa: S105
USER_ME_URL = "https://kapi.kakao.com/v2/user/me"
JWKS_URL = "https://kauth.kakao.com/.well-known/jwks.json"
ISSUER = "https://kauth.kakao.com"
ID_TOKEN_ALGORITHM = "RS256"  # noqa: S105

JWKS_CACHE_KEY = "accounts:kakao:jwks"
# An id_token naming a key we do not know makes us fetch the JWKS again (Kakao rotates
# keys), but not more often than this, so made-up key ids cannot hammer Kakao through us.
JWKS_MIN_REFETCH_SECONDS = 60


@dataclass(frozen=True)
class KakaoSettings:
    """Our Kakao app, from ``SOCIALACCOUNT_PROVIDERS["kakao"]`` (read from the environment)."""

    app_id: str
    id_token_audiences: tuple[str, ...]
    timeout: float = 3.0
    jwks_cache_seconds: int = 86400
    id_token_leeway: int = 30

    @classmethod
    def from_provider_settings(cls, raw: Mapping[str, Any]) -> KakaoSettings:
        return cls(
            app_id=str(raw.get("APP_ID") or "").strip(),
            id_token_audiences=tuple(str(a).strip() for a in raw.get("AUDIENCES", ()) if a),
            timeout=float(raw.get("TIMEOUT", 3.0)),
            jwks_cache_seconds=int(raw.get("JWKS_CACHE_SECONDS", 86400)),
            id_token_leeway=int(raw.get("ID_TOKEN_LEEWAY", 30)),
        )


class KakaoError(Exception):
    """A Kakao login that cannot go on; ``code`` is stable and shown to the app."""

    status_code = 400
    code = "kakao_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class KakaoTokenRejected(KakaoError):
    """The token does not prove a Kakao user of our app: invalid, expired or foreign."""

    status_code = 401
    code = "kakao_token_invalid"


class KakaoUnavailable(KakaoError):
    """Kakao did not answer in time, or answered with an error on its side."""

    status_code = 503
    code = "kakao_unavailable"


@dataclass(frozen=True)
class KakaoIdentity:
    """Who the token belongs to. ``email`` is empty unless Kakao vouches for it."""

    kakao_id: str
    nickname: str = ""
    email: str = ""
    profile_image_url: str = ""
    via: str = "access_token"

    def as_extra_data(self) -> dict[str, Any]:
        """What we keep of the Kakao profile (kept small on purpose: no phone, no birthday)."""
        return {
            "id": self.kakao_id,
            "nickname": self.nickname,
            "email": self.email,
            "profile_image_url": self.profile_image_url,
            "via": self.via,
        }


# --- access token ----------------------------------------------------------------------


def identity_from_access_token(access_token: str, *, settings: KakaoSettings) -> KakaoIdentity:
    """Check a Kakao access token with Kakao and read its user's profile."""
    if not settings.app_id:
        logger.error("kakao.not_configured missing=KAKAO_APP_ID")
        raise KakaoUnavailable(
            "Kakao login is not configured on this server.", code="kakao_not_configured"
        )
    headers = {"Authorization": f"Bearer {access_token}"}
    info = _get_json(ACCESS_TOKEN_INFO_URL, headers=headers, timeout=settings.timeout)
    if str(info.get("app_id", "")) != settings.app_id:
        logger.warning(
            "kakao.token_foreign_app app_id=%s expected=%s", info.get("app_id"), settings.app_id
        )
        raise KakaoTokenRejected(
            "This Kakao token was issued to another app.", code="kakao_token_wrong_app"
        )
    token_user_id = info.get("id")

    profile = _get_json(USER_ME_URL, headers=headers, timeout=settings.timeout)
    kakao_id = profile.get("id")
    if not isinstance(kakao_id, int | str) or str(kakao_id) == "":
        logger.error("kakao.unexpected_answer url=%s missing=id", USER_ME_URL)
        raise KakaoUnavailable("Kakao gave an answer we could not read; try again.")
    if token_user_id is not None and str(token_user_id) != str(kakao_id):
        # Both calls used the same token; different users means something is very wrong.
        logger.error("kakao.user_mismatch token_user=%s profile_user=%s", token_user_id, kakao_id)
        raise KakaoTokenRejected("Kakao's answers about this token disagree.")

    account = profile.get("kakao_account") or {}
    kakao_profile = account.get("profile") or {}
    properties = profile.get("properties") or {}
    email = ""
    if account.get("email") and account.get("is_email_valid") and account.get("is_email_verified"):
        email = str(account["email"])
    return KakaoIdentity(
        kakao_id=str(kakao_id),
        nickname=str(kakao_profile.get("nickname") or properties.get("nickname") or ""),
        email=email,
        profile_image_url=str(
            kakao_profile.get("profile_image_url") or properties.get("profile_image") or ""
        ),
        via="access_token",
    )


def _get_json(
    url: str, *, headers: Mapping[str, str], timeout: float, checks_token: bool = True
) -> dict[str, Any]:
    """GET a Kakao endpoint. Where it checks our token (``checks_token``), 400/401 mean the
    token is no good; anything else that is not a JSON object is Kakao's trouble."""
    started = time.monotonic()
    try:
        response = requests.get(url, headers=dict(headers), timeout=timeout)
    except requests.Timeout as error:
        logger.warning("kakao.timeout url=%s timeout_s=%s", url, timeout)
        raise KakaoUnavailable("Kakao did not answer in time; try again shortly.") from error
    except requests.RequestException as error:
        logger.warning("kakao.unreachable url=%s error=%s", url, type(error).__name__)
        raise KakaoUnavailable("Kakao cannot be reached; try again shortly.") from error
    elapsed_ms = int((time.monotonic() - started) * 1000)
    if checks_token and response.status_code in (400, 401):
        logger.info(
            "kakao.token_refused url=%s status=%s body=%s",
            url,
            response.status_code,
            response.text[:200],
        )
        raise KakaoTokenRejected("Kakao does not accept this token (invalid or expired).")
    if response.status_code != 200:
        logger.warning(
            "kakao.error_answer url=%s status=%s elapsed_ms=%s",
            url,
            response.status_code,
            elapsed_ms,
        )
        raise KakaoUnavailable("Kakao answered with an error; try again shortly.")
    try:
        data = response.json()
    except ValueError as error:
        logger.warning("kakao.unexpected_answer url=%s not_json=true", url)
        raise KakaoUnavailable("Kakao gave an answer we could not read; try again.") from error
    if not isinstance(data, dict):
        logger.warning("kakao.unexpected_answer url=%s not_object=true", url)
        raise KakaoUnavailable("Kakao gave an answer we could not read; try again.")
    return data


# --- id_token ----------------------------------------------------------------------------


def identity_from_id_token(id_token: str, *, settings: KakaoSettings) -> KakaoIdentity:
    """Verify a Kakao OIDC id_token here (no call to Kakao but a cached JWKS)."""
    if not settings.id_token_audiences:
        logger.error("kakao.not_configured missing=KAKAO_NATIVE_APP_KEY")
        raise KakaoUnavailable(
            "Kakao login is not configured on this server.", code="kakao_not_configured"
        )
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError as error:
        raise KakaoTokenRejected("This id_token is not a well-formed JWT.") from error
    kid = header.get("kid")
    if header.get("alg") != ID_TOKEN_ALGORITHM or not isinstance(kid, str):
        raise KakaoTokenRejected("This id_token is not signed the way Kakao signs.")

    jwk = _signing_key(kid, settings=settings)
    if jwk is None:
        raise KakaoTokenRejected("This id_token is signed by a key Kakao does not publish.")
    try:
        key = jwt.PyJWK(jwk, algorithm=ID_TOKEN_ALGORITHM).key
        claims = jwt.decode(
            id_token,
            key=key,
            algorithms=[ID_TOKEN_ALGORITHM],
            audience=list(settings.id_token_audiences),
            issuer=ISSUER,
            leeway=settings.id_token_leeway,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise KakaoTokenRejected(
            "This id_token has expired; sign in with Kakao again.", code="kakao_token_expired"
        ) from error
    except jwt.InvalidAudienceError as error:
        raise KakaoTokenRejected(
            "This id_token was issued to another app.", code="kakao_token_wrong_app"
        ) from error
    except jwt.InvalidIssuerError as error:
        raise KakaoTokenRejected("This id_token was not issued by Kakao.") from error
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise KakaoTokenRejected("This id_token's signature or claims are not valid.") from error

    sub = claims.get("sub")
    if not isinstance(sub, str | int) or str(sub) == "":
        raise KakaoTokenRejected("This id_token names no Kakao user.")
    # Kakao's id_token carries an email without saying whether it is verified: not kept.
    return KakaoIdentity(
        kakao_id=str(sub),
        nickname=str(claims.get("nickname") or ""),
        profile_image_url=str(claims.get("picture") or ""),
        via="id_token",
    )


def _signing_key(kid: str, *, settings: KakaoSettings) -> dict[str, Any] | None:
    """Kakao's public key ``kid`` from the cached JWKS, fetching it when missing or unknown."""
    cached = _cache_get()
    if cached is not None:
        keys, fetched_at = cached
        if kid in keys or time.time() - fetched_at < JWKS_MIN_REFETCH_SECONDS:
            return keys.get(kid)
    keys = _fetch_jwks(settings=settings)
    _cache_set(keys, timeout=settings.jwks_cache_seconds)
    return keys.get(kid)


def _fetch_jwks(*, settings: KakaoSettings) -> dict[str, dict[str, Any]]:
    data = _get_json(JWKS_URL, headers={}, timeout=settings.timeout, checks_token=False)
    keys = data.get("keys")
    if not isinstance(keys, list):
        logger.warning("kakao.unexpected_answer url=%s missing=keys", JWKS_URL)
        raise KakaoUnavailable("Kakao gave an answer we could not read; try again.")
    by_kid = {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}
    logger.info("kakao.jwks_fetched keys=%s", len(by_kid))
    return by_kid


def _cache_get() -> tuple[dict[str, dict[str, Any]], float] | None:
    try:
        value = cache.get(JWKS_CACHE_KEY)
    except Exception:  # a cache outage must not stop logins: fetch instead
        logger.warning("kakao.jwks_cache_unavailable op=get", exc_info=True)
        return None
    if not isinstance(value, dict) or not isinstance(value.get("keys"), dict):
        return None
    return value["keys"], float(value.get("fetched_at", 0))


def _cache_set(keys: dict[str, dict[str, Any]], *, timeout: int) -> None:
    try:
        cache.set(JWKS_CACHE_KEY, {"keys": keys, "fetched_at": time.time()}, timeout)
    except Exception:
        logger.warning("kakao.jwks_cache_unavailable op=set", exc_info=True)
