"""Kakao login through ``POST /_allauth/app/v1/auth/provider/token``, Kakao faked over HTTP."""

from __future__ import annotations

import pytest
import requests
from allauth.socialaccount.models import SocialAccount

from apps.accounts.kakao.client import ACCESS_TOKEN_INFO_URL, JWKS_URL, USER_ME_URL
from apps.accounts.models import User
from tests.apps.accounts.support import (
    KAKAO_KID,
    KAKAO_TIMEOUT,
    ME_URL,
    REST_API_KEY,
    api,
    error_codes,
    kakao_login,
    public_jwk,
    tokens_of,
)

pytestmark = pytest.mark.django_db


def me(access: str) -> dict:
    response = api("GET", ME_URL, bearer=access)
    assert response.status_code == 200, response.content
    return response.json()


# --- access token form ---------------------------------------------------------------


def test_new_kakao_user_gets_an_account_and_a_token_pair(kakao):
    kakao.access_token("kakao-at-1", kakao_id=4242, nickname="민아", email="mina@kakao.test")

    response = kakao_login({"access_token": "kakao-at-1"})

    access, refresh = tokens_of(response)
    assert access and refresh and access != refresh
    assert response.json()["meta"]["is_authenticated"] is True
    profile = me(access)
    assert profile["nickname"] == "민아"
    assert profile["email"] == "mina@kakao.test"
    account = SocialAccount.objects.get(provider="kakao")
    assert account.uid == "4242"
    assert account.user_id == profile["id"]
    # The token was checked with Kakao under our configured time limit.
    info_call = next(c for c in kakao.mock.calls if c.request.url == ACCESS_TOKEN_INFO_URL)
    assert info_call.request.req_kwargs["timeout"] == KAKAO_TIMEOUT


def test_returning_kakao_user_lands_on_the_same_account(kakao):
    kakao.access_token("kakao-at-1", kakao_id=4242)
    first = me(tokens_of(kakao_login({"access_token": "kakao-at-1"}))[0])
    api(
        "PATCH",
        ME_URL,
        bearer=tokens_of(kakao_login({"access_token": "kakao-at-1"}))[0],
        body={"nickname": "stays"},
    )

    second = me(tokens_of(kakao_login({"access_token": "kakao-at-1"}))[0])

    assert second["id"] == first["id"]
    assert second["nickname"] == "stays"  # a returning login does not reset the profile
    assert User.objects.count() == 1


def test_kakao_users_without_email_each_get_their_own_account(kakao):
    kakao.access_token("kakao-at-a", kakao_id=1, nickname="a")
    kakao.access_token("kakao-at-b", kakao_id=2, nickname="b")

    first = me(tokens_of(kakao_login({"access_token": "kakao-at-a"}))[0])
    second = me(tokens_of(kakao_login({"access_token": "kakao-at-b"}))[0])

    assert first["id"] != second["id"]
    assert first["email"] is None and second["email"] is None


def test_unverified_kakao_email_is_not_kept(kakao):
    kakao.access_token("kakao-at-1", kakao_id=7, email="who@kakao.test", email_verified=False)

    profile = me(tokens_of(kakao_login({"access_token": "kakao-at-1"}))[0])

    assert profile["email"] is None


def test_kakao_email_held_by_another_account_neither_links_nor_blocks(kakao, user):
    kakao.access_token("kakao-at-1", kakao_id=7, email=user.email)

    profile = me(tokens_of(kakao_login({"access_token": "kakao-at-1"}))[0])

    assert profile["id"] != user.pk
    assert profile["email"] is None
    assert not SocialAccount.objects.filter(user=user).exists()


def test_access_token_of_another_app_is_refused_with_401(kakao):
    kakao.access_token("foreign-at", kakao_id=4242, app_id=999)

    response = kakao_login({"access_token": "foreign-at"})

    assert response.status_code == 401
    assert error_codes(response) == ["kakao_token_wrong_app"]
    assert "access_token" not in response.json().get("meta", {})
    assert kakao.calls_to(USER_ME_URL) == 0  # the profile of a foreign token is never read
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"msg": "this access token does not exist", "code": -401}),
        (401, {"msg": "this access token is already expired", "code": -401}),
        (400, {"msg": "invalid token format", "code": -2}),
    ],
)
def test_expired_or_unknown_access_token_is_refused_with_401(kakao, status, body):
    kakao.mock.get(ACCESS_TOKEN_INFO_URL, status=status, json=body)

    response = kakao_login({"access_token": "expired-at"})

    assert response.status_code == 401
    assert error_codes(response) == ["kakao_token_invalid"]
    assert not User.objects.exists()


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_kakao_answering_an_error_gives_503(kakao, status):
    kakao.mock.get(ACCESS_TOKEN_INFO_URL, status=status, json={"msg": "internal", "code": -1})

    response = kakao_login({"access_token": "kakao-at-1"})

    assert response.status_code == 503
    assert error_codes(response) == ["kakao_unavailable"]


def test_kakao_failing_on_the_profile_call_gives_503(kakao):
    kakao.mock.get(ACCESS_TOKEN_INFO_URL, json={"id": 1, "expires_in": 100, "app_id": 1234567})
    kakao.mock.get(USER_ME_URL, status=500, body="oops")

    response = kakao_login({"access_token": "kakao-at-1"})

    assert response.status_code == 503
    assert error_codes(response) == ["kakao_unavailable"]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "failure", [requests.ReadTimeout("slow"), requests.ConnectionError("refused")]
)
def test_kakao_timing_out_or_unreachable_gives_503(kakao, failure):
    kakao.mock.get(ACCESS_TOKEN_INFO_URL, body=failure)

    response = kakao_login({"access_token": "kakao-at-1"})

    assert response.status_code == 503
    assert error_codes(response) == ["kakao_unavailable"]


def test_kakao_answering_garbage_gives_503_not_500(kakao):
    kakao.mock.get(ACCESS_TOKEN_INFO_URL, body="<html>maintenance</html>", status=200)

    response = kakao_login({"access_token": "kakao-at-1"})

    assert response.status_code == 503


def test_kakao_not_configured_gives_503(kakao, kakao_settings):
    kakao_settings.SOCIALACCOUNT_PROVIDERS = {"kakao": {"APP_ID": "", "AUDIENCES": []}}

    by_access = kakao_login({"access_token": "kakao-at-1"})
    by_id = kakao_login({"id_token": kakao.id_token(kakao_id=1)})

    assert (by_access.status_code, by_id.status_code) == (503, 503)
    assert error_codes(by_access) == error_codes(by_id) == ["kakao_not_configured"]
    assert len(kakao.mock.calls) == 0


# --- id_token form -----------------------------------------------------------------------


def test_id_token_logs_a_new_user_in(kakao):
    kakao.jwks()

    response = kakao_login({"id_token": kakao.id_token(kakao_id=4242, nickname="준")})

    access, _ = tokens_of(response)
    assert me(access)["nickname"] == "준"
    assert SocialAccount.objects.get(provider="kakao").uid == "4242"


def test_access_token_and_id_token_forms_land_on_one_account(kakao):
    kakao.jwks()
    kakao.access_token("kakao-at-1", kakao_id=4242)

    by_id_token = me(tokens_of(kakao_login({"id_token": kakao.id_token(kakao_id=4242)}))[0])
    by_access_token = me(tokens_of(kakao_login({"access_token": "kakao-at-1"}))[0])
    again_by_id_token = me(tokens_of(kakao_login({"id_token": kakao.id_token(kakao_id=4242)}))[0])

    assert by_id_token["id"] == by_access_token["id"] == again_by_id_token["id"]
    assert User.objects.count() == 1
    assert SocialAccount.objects.count() == 1


def test_id_token_for_our_rest_api_key_is_accepted(kakao):
    kakao.jwks()

    response = kakao_login({"id_token": kakao.id_token(kakao_id=5, aud=REST_API_KEY)})

    assert response.status_code == 200


def test_kakao_keys_are_fetched_once_and_cached(kakao):
    kakao.jwks()

    for kakao_id in (1, 2, 3):
        assert kakao_login({"id_token": kakao.id_token(kakao_id=kakao_id)}).status_code == 200

    assert kakao.calls_to(JWKS_URL) == 1


def test_a_rotated_kakao_key_is_fetched_again(kakao, stranger_signing_key, monkeypatch):
    kakao.jwks()
    assert kakao_login({"id_token": kakao.id_token(kakao_id=1)}).status_code == 200
    # Kakao rotates: a new key appears in its JWKS some time later.
    kakao.mock.replace(
        "GET", JWKS_URL, json={"keys": [public_jwk(stranger_signing_key, "kakao-test-key-2")]}
    )
    import apps.accounts.kakao.client as client

    monkeypatch.setattr(client, "JWKS_MIN_REFETCH_SECONDS", 0)
    rotated = kakao.id_token(kakao_id=1, key=stranger_signing_key, kid="kakao-test-key-2")

    assert kakao_login({"id_token": rotated}).status_code == 200
    assert kakao.calls_to(JWKS_URL) == 2


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"aud": "someone-elses-app-key"}, "kakao_token_wrong_app"),
        ({"iss": "https://accounts.google.com"}, "kakao_token_invalid"),
        ({"expires_in": -3600}, "kakao_token_expired"),
    ],
    ids=["wrong-audience", "wrong-issuer", "expired"],
)
def test_id_token_with_wrong_claims_is_refused_with_401(kakao, claims, code):
    kakao.jwks()

    response = kakao_login({"id_token": kakao.id_token(kakao_id=4242, **claims)})

    assert response.status_code == 401
    assert error_codes(response) == [code]
    assert not User.objects.exists()


def test_id_token_with_a_forged_signature_is_refused_with_401(kakao, stranger_signing_key):
    kakao.jwks()
    # Signed by someone else's key while naming Kakao's key id.
    forged = kakao.id_token(kakao_id=4242, key=stranger_signing_key, kid=KAKAO_KID)

    response = kakao_login({"id_token": forged})

    assert response.status_code == 401
    assert error_codes(response) == ["kakao_token_invalid"]
    assert not User.objects.exists()


def test_id_token_signed_by_a_key_kakao_does_not_publish_is_refused(kakao, stranger_signing_key):
    kakao.jwks()
    unknown = kakao.id_token(kakao_id=4242, key=stranger_signing_key, kid="not-kakaos")

    response = kakao_login({"id_token": unknown})
    again = kakao_login({"id_token": unknown})

    assert response.status_code == again.status_code == 401
    assert error_codes(response) == ["kakao_token_invalid"]
    # Made-up key ids do not make us fetch Kakao's keys on every request.
    assert kakao.calls_to(JWKS_URL) == 1


@pytest.mark.parametrize(
    "id_token",
    [
        "not-a-jwt",
        "e30.e30.",  # {} . {} . no signature
        "eyJhbGciOiJub25lIiwia2lkIjoia2FrYW8tdGVzdC1rZXktMSJ9.eyJzdWIiOiIxIn0.",  # alg none
    ],
    ids=["garbage", "empty-header", "alg-none"],
)
def test_malformed_id_token_is_refused_with_401_not_500(kakao, id_token):
    kakao.jwks()

    response = kakao_login({"id_token": id_token})

    assert response.status_code == 401
    assert error_codes(response) == ["kakao_token_invalid"]


@pytest.mark.parametrize(
    "failure", [requests.ReadTimeout("slow"), requests.ConnectionError("refused")]
)
def test_kakao_keys_unreachable_gives_503(kakao, failure):
    kakao.mock.get(JWKS_URL, body=failure)

    response = kakao_login({"id_token": kakao.id_token(kakao_id=1)})

    assert response.status_code == 503
    assert error_codes(response) == ["kakao_unavailable"]


def test_kakao_keys_answering_5xx_gives_503(kakao):
    kakao.mock.get(JWKS_URL, status=502, body="bad gateway")

    response = kakao_login({"id_token": kakao.id_token(kakao_id=1)})

    assert response.status_code == 503


def test_token_with_neither_form_is_a_400_from_allauth(kakao):
    response = kakao_login({"code": "an-authorization-code"})

    assert response.status_code == 400
    assert error_codes(response) == ["token_required"]
    assert len(kakao.mock.calls) == 0


def test_the_app_config_offers_kakao_by_token(kakao):
    response = api("GET", "/_allauth/app/v1/config")

    providers = response.json()["data"]["socialaccount"]["providers"]
    assert providers == [{"id": "kakao", "name": "Kakao", "flows": ["provider_token"]}]


def test_two_first_sign_ins_at_once_make_one_account_and_a_retryable_409(kakao, monkeypatch):
    from apps.accounts.adapters import SocialAccountAdapter

    kakao.access_token("kakao-at-1", kakao_id=4242)
    original = SocialAccountAdapter.pre_social_login

    def parallel_request_wins(self, request, sociallogin):
        original(self, request, sociallogin)
        # Between our lookup and our save, a parallel request creates the same link.
        twin = User.objects.create_user(email=None, nickname="twin")
        SocialAccount.objects.create(user=twin, provider="kakao", uid="4242")

    monkeypatch.setattr(SocialAccountAdapter, "pre_social_login", parallel_request_wins)
    response = kakao_login({"access_token": "kakao-at-1"})
    monkeypatch.undo()

    assert response.status_code == 409
    assert error_codes(response) == ["login_in_progress"]
    assert User.objects.count() == 1  # no user without a login left behind
    retry = kakao_login({"access_token": "kakao-at-1"})
    assert me(tokens_of(retry)[0])["nickname"] == "twin"
