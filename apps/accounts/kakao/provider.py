"""The ``kakao`` provider for allauth's headless provider-token flow.

The app posts what the Kakao SDK gave it::

    POST /_allauth/app/v1/auth/provider/token
    {"provider": "kakao", "process": "login", "token": {"id_token": "..."}}
    (or {"access_token": "..."} in ``token``)

allauth hands ``token`` to :meth:`KakaoProvider.verify_token`. A token that proves nothing
answers 401 and an unreachable Kakao 503, in allauth's error shape with our own ``code``
(allauth itself would answer 400 for any failed verification, and 500 for a network error).
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.headless.internal.restkit.response import APIResponse
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import Provider, ProviderAccount
from django.http import HttpRequest

from apps.accounts.kakao.client import (
    KakaoError,
    KakaoSettings,
    identity_from_access_token,
    identity_from_id_token,
)

logger = logging.getLogger(__name__)


class KakaoAccount(ProviderAccount):
    def get_avatar_url(self) -> str | None:
        return self.account.extra_data.get("profile_image_url") or None

    def to_str(self) -> str:
        return str(self.account.extra_data.get("nickname") or super().to_str())


class KakaoProvider(Provider):
    id = "kakao"
    name = "Kakao"
    account_class = KakaoAccount
    # Configured from settings (SOCIALACCOUNT_PROVIDERS["kakao"]), not from SocialApp rows:
    # the app needs to send no client_id, and there is no secret to keep.
    uses_apps = False
    supports_redirect = False
    supports_token_authentication = True

    def kakao_settings(self) -> KakaoSettings:
        return KakaoSettings.from_provider_settings(self.get_settings())

    def verify_token(self, request: HttpRequest, token: dict[str, Any]) -> SocialLogin:
        """Turn an SDK token into a (not yet saved) login; the id_token wins when both come."""
        id_token = token.get("id_token")
        access_token = token.get("access_token")
        settings = self.kakao_settings()
        try:
            if id_token:
                identity = identity_from_id_token(id_token, settings=settings)
            elif access_token:
                identity = identity_from_access_token(access_token, settings=settings)
            else:  # allauth's input checks this already
                raise get_adapter().validation_error("invalid_token")
        except KakaoError as error:
            logger.info(
                "accounts.kakao_login_refused code=%s status=%s form=%s",
                error.code,
                error.status_code,
                "id_token" if id_token else "access_token",
            )
            raise ImmediateHttpResponse(kakao_error_response(request, error)) from error
        logger.info("accounts.kakao_login_verified form=%s", identity.via)
        return self.sociallogin_from_response(request, identity.as_extra_data())

    def extract_uid(self, data: dict[str, Any]) -> str:
        return str(data["id"])

    def extract_common_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {"nickname": data.get("nickname") or ""}
        if data.get("email"):
            fields["email"] = data["email"]
            fields["email_verified"] = True  # only verified addresses reach this point
        return fields

    def extract_email_addresses(self, data: dict[str, Any]) -> list[EmailAddress]:
        if not data.get("email"):
            return []
        return [EmailAddress(email=data["email"], verified=True, primary=True)]


def kakao_error_response(request: HttpRequest, error: KakaoError) -> APIResponse:
    """allauth's headless error shape, with the status and code the app acts on."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.status_code == 401:
        body["param"] = "token"
    return APIResponse(request, errors=[body], status=error.status_code)


provider_classes = [KakaoProvider]
