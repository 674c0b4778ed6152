"""How allauth signs people up and in here (``ACCOUNT_ADAPTER``, ``SOCIALACCOUNT_ADAPTER``).

- Kakao users are always let in, with no sign-up form: the app has none to show. Their
  email is kept only when Kakao vouches for it and no other account holds it (an address
  someone else uses never links or blocks an account); otherwise it stays empty.
- Email + password through the app's headless endpoints follows
  ``ACCOUNTS_PASSWORD_LOGIN_ENABLED`` (on in the local profile and tests, off in
  production unless set). Curators' web login (``/accounts/login/``) and the Django admin
  are not the app's endpoints and are not affected.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.userkit import filter_users_by_email
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.headless.constants import Client
from allauth.headless.internal.restkit.response import APIResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from apps.accounts.models import User

logger = logging.getLogger(__name__)

SIGNUP_RACE_CODE = "login_in_progress"
PASSWORD_LOGIN_DISABLED_CODE = "password_login_disabled"  # noqa: S105 (an error code)


def is_app_request(request: HttpRequest | None) -> bool:
    """Whether ``request`` came through allauth's headless endpoints for the app client."""
    headless = getattr(getattr(request, "allauth", None), "headless", None)
    return getattr(headless, "client", None) == Client.APP


def app_password_login_refused(request: HttpRequest | None) -> bool:
    return is_app_request(request) and not settings.ACCOUNTS_PASSWORD_LOGIN_ENABLED


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        if app_password_login_refused(request):
            return False
        return super().is_open_for_signup(request)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        if app_password_login_refused(request):
            raise ValidationError(
                "Email and password sign-in is off for the app on this server; sign in with Kakao.",
                code=PASSWORD_LOGIN_DISABLED_CODE,
            )
        super().pre_authenticate(request, **credentials)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # A Kakao user joins by signing in; the password flag is about passwords only.
        return True

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Before a new Kakao user's account is made, drop an email someone else holds."""
        if sociallogin.is_existing:
            return
        user = sociallogin.user
        email = next((a.email for a in sociallogin.email_addresses), None) or (
            user.email if user else None
        )
        if email and filter_users_by_email(email):
            logger.info(
                "accounts.kakao_email_dropped reason=held_by_another_account provider=%s",
                sociallogin.account.provider,
            )
            sociallogin.email_addresses = []
            if user is not None:
                user.email = None

    def populate_user(
        self, request: HttpRequest, sociallogin: SocialLogin, data: dict[str, Any]
    ) -> User:
        user: User = super().populate_user(request, sociallogin, data)
        # allauth writes "" for "no email"; the column is unique, so "none" must be NULL.
        user.email = user.email or None
        nickname = str(data.get("nickname") or "")
        user.nickname = nickname[: User._meta.get_field("nickname").max_length or 50]
        return user

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> User:
        """Create the new Kakao user and its link in one go.

        Two first sign-ins of one Kakao user at once (a double tap) both find no account;
        the second to save hits the unique (provider, uid) link. It is rolled back whole
        (no user without a login is left) and told to try again, which then signs in.
        """
        try:
            with transaction.atomic():
                user: User = super().save_user(request, sociallogin, form)
        except IntegrityError as error:
            logger.info("accounts.social_signup_race provider=%s", sociallogin.account.provider)
            raise ImmediateHttpResponse(
                APIResponse(
                    request,
                    errors=[
                        {
                            "code": SIGNUP_RACE_CODE,
                            "message": "This account was being created by another sign-in "
                            "at the same moment; try again.",
                        }
                    ],
                    status=409,
                )
            ) from error
        return user
