"""``/api/v1/me``: whose data is read, changed or deleted is decided by the token alone."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount

from apps.accounts.models import User
from tests.apps.accounts.support import LOGIN_URL, ME_URL, api, kakao_login, post_json, tokens_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def mina(kakao) -> str:
    kakao.access_token("kakao-at-mina", kakao_id=1, nickname="mina")
    return tokens_of(kakao_login({"access_token": "kakao-at-mina"}))[0]


@pytest.fixture
def joon(other_user) -> str:
    return tokens_of(
        post_json(LOGIN_URL, {"email": other_user.email, "password": "s3cret-pass-word"})
    )[0]


def test_each_token_reads_its_own_profile(mina, joon, other_user):
    mina_profile = api("GET", ME_URL, bearer=mina).json()
    joon_profile = api("GET", ME_URL, bearer=joon).json()

    assert mina_profile["nickname"] == "mina"
    assert joon_profile["id"] == other_user.pk
    assert mina_profile["id"] != joon_profile["id"]


def test_a_change_only_reaches_the_tokens_owner(mina, joon, other_user):
    response = api(
        "PATCH",
        ME_URL,
        bearer=mina,
        # Naming someone else's id or email in the body changes nothing of theirs.
        body={"nickname": "new name", "id": other_user.pk, "email": "taken@example.com"},
    )

    assert response.status_code == 200
    assert response.json()["nickname"] == "new name"
    assert response.json()["id"] != other_user.pk
    other_user.refresh_from_db()
    assert other_user.nickname == ""
    assert other_user.email == "joon@example.com"
    assert api("GET", ME_URL, bearer=joon).json()["nickname"] == ""


def test_there_is_no_url_to_reach_another_users_profile(mina, other_user):
    for method in ("GET", "PATCH", "DELETE"):
        response = api(method, f"{ME_URL}/{other_user.pk}", bearer=mina, body={"nickname": "x"})
        assert response.status_code == 404
    assert User.objects.filter(pk=other_user.pk, nickname="").exists()


def test_profile_update_rejects_unknown_styles(mina):
    response = api("PATCH", ME_URL, bearer=mina, body={"preferred_styles": ["banana"]})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_deleted_users_token_stops_working(mina, joon):
    assert api("DELETE", ME_URL, bearer=mina).status_code == 204

    assert api("GET", ME_URL, bearer=mina).status_code == 401
    assert api("PATCH", ME_URL, bearer=mina, body={"nickname": "ghost"}).status_code == 401
    assert api("GET", ME_URL, bearer=joon).status_code == 200
    assert not SocialAccount.objects.exists()


def test_a_size_name_with_a_nul_character_is_a_400_not_a_500(db):
    """Found by the schemathesis run: PostgreSQL refuses NUL in JSON text."""
    from rest_framework.test import APIClient

    from apps.accounts.models import User

    user = User.objects.create_user(email="sizes@example.com", password="s3cret-pass-word")
    client = APIClient()
    client.force_authenticate(user)

    response = client.patch("/api/v1/me", {"sizes": {"to\x00p": "M"}}, format="json")
    value = client.patch("/api/v1/me", {"sizes": {"top": "M\x00"}}, format="json")

    assert response.status_code == 400
    assert "sizes" in response.json()["error"]["details"]
    assert value.status_code == 400
    user.refresh_from_db()
    assert user.sizes == {}
