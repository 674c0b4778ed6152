"""The JWT pair from the headless app endpoints: refresh rotation, logout, password login."""

from __future__ import annotations

import pytest

from tests.apps.accounts.support import (
    LOGIN_URL,
    ME_URL,
    REFRESH_URL,
    SESSION_URL,
    SIGNUP_URL,
    api,
    error_codes,
    kakao_login,
    post_json,
    tokens_of,
)

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-phrase-9"


@pytest.fixture
def signed_in(kakao) -> tuple[str, str]:
    kakao.access_token("kakao-at-1", kakao_id=4242)
    return tokens_of(kakao_login({"access_token": "kakao-at-1"}))


def refresh(token: str):
    return post_json(REFRESH_URL, {"refresh_token": token})


def test_refresh_gives_a_new_pair_and_the_old_refresh_token_stops_working(signed_in):
    _, old_refresh = signed_in

    response = refresh(old_refresh)

    assert response.status_code == 200
    data = response.json()["data"]
    new_access, new_refresh = data["access_token"], data["refresh_token"]
    assert new_refresh != old_refresh
    assert api("GET", ME_URL, bearer=new_access).status_code == 200
    # The old refresh token was used once: it never works again.
    assert refresh(old_refresh).status_code == 400
    # The new one does, once.
    assert refresh(new_refresh).status_code == 200
    assert refresh(new_refresh).status_code == 400


def test_a_made_up_refresh_token_is_refused(signed_in):
    access, _ = signed_in

    assert refresh(access).status_code == 400  # an access token is not a refresh token
    assert refresh("not-a-token").status_code == 400


def test_logout_ends_the_access_and_refresh_tokens(signed_in):
    access, refresh_token = signed_in

    response = api("DELETE", SESSION_URL, bearer=access)

    assert response.status_code == 401  # allauth: "now not signed in"
    assert response.json()["meta"]["is_authenticated"] is False
    assert api("GET", ME_URL, bearer=access).status_code == 401
    assert refresh(refresh_token).status_code == 400


def test_logout_on_one_phone_leaves_the_other_signed_in(kakao):
    kakao.access_token("kakao-at-1", kakao_id=4242)
    phone, _ = tokens_of(kakao_login({"access_token": "kakao-at-1"}))
    tablet, _ = tokens_of(kakao_login({"access_token": "kakao-at-1"}))

    api("DELETE", SESSION_URL, bearer=phone)

    assert api("GET", ME_URL, bearer=phone).status_code == 401
    assert api("GET", ME_URL, bearer=tablet).status_code == 200


def test_api_refuses_missing_and_tampered_tokens(signed_in):
    access, _ = signed_in
    header, payload, signature = access.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"

    missing = api("GET", ME_URL)
    bad = api("GET", ME_URL, bearer=tampered)

    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "not_authenticated"
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "authentication_failed"


# --- email + password through the same endpoints (development, curators) -----------------


def test_password_signup_and_login_return_the_same_jwt_pair(settings):
    settings.ACCOUNTS_PASSWORD_LOGIN_ENABLED = True

    signup = post_json(SIGNUP_URL, {"email": "dev@example.com", "password": PASSWORD})
    login = post_json(LOGIN_URL, {"email": "dev@example.com", "password": PASSWORD})

    for response in (signup, login):
        access, refresh_token = tokens_of(response)
        profile = api("GET", ME_URL, bearer=access).json()
        assert profile["email"] == "dev@example.com"
        assert refresh(refresh_token).status_code == 200


def test_password_login_through_the_app_is_refused_when_turned_off(settings, user, kakao):
    settings.ACCOUNTS_PASSWORD_LOGIN_ENABLED = False

    login = post_json(LOGIN_URL, {"email": user.email, "password": "s3cret-pass-word"})
    signup = post_json(SIGNUP_URL, {"email": "new@example.com", "password": PASSWORD})

    assert login.status_code == 400
    assert error_codes(login) == ["password_login_disabled"]
    assert "meta" not in login.json() or "access_token" not in login.json()["meta"]
    assert signup.status_code == 403
    # Kakao users still join and sign in.
    kakao.access_token("kakao-at-1", kakao_id=4242)
    assert kakao_login({"access_token": "kakao-at-1"}).status_code == 200


def test_curators_still_sign_in_to_the_admin_when_app_password_login_is_off(settings, client):
    from apps.accounts.models import User

    settings.ACCOUNTS_PASSWORD_LOGIN_ENABLED = False
    User.objects.create_superuser(email="curator@example.com", password=PASSWORD)

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "curator@example.com", "password": PASSWORD},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_a_phone_can_list_and_end_the_other_devices_sessions(kakao):
    kakao.access_token("kakao-at-1", kakao_id=4242)
    phone, _ = tokens_of(kakao_login({"access_token": "kakao-at-1"}))
    tablet, tablet_refresh = tokens_of(kakao_login({"access_token": "kakao-at-1"}))

    listed = api("GET", "/_allauth/app/v1/auth/sessions", bearer=phone)
    assert listed.status_code == 200
    sessions = listed.json()["data"]
    assert len(sessions) == 2
    other = next(s["id"] for s in sessions if not s["is_current"])
    ended = api(
        "DELETE", "/_allauth/app/v1/auth/sessions", bearer=phone, body={"sessions": [other]}
    )

    assert ended.status_code == 200
    assert api("GET", ME_URL, bearer=tablet).status_code == 401
    assert refresh(tablet_refresh).status_code == 400
    assert api("GET", ME_URL, bearer=phone).status_code == 200
