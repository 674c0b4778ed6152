"""``DELETE /api/v1/me`` leaves no file, row, session or cache entry of the user behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.accounts.deletion import (
    UserData,
    user_cleanup_collectors,
    user_cleanup_register,
    user_cleanup_unregister,
    user_storage_prefix,
)
from apps.accounts.models import User
from tests.apps.accounts.support import (
    LOGIN_URL,
    ME_URL,
    REFRESH_URL,
    api,
    kakao_login,
    post_json,
    tokens_of,
)

pytestmark = pytest.mark.django_db


class FakeCloset:
    """Stands in for a later app (closet, searches): files, cache entries, index entries."""

    def __init__(self) -> None:
        self.files: dict[int, list[str]] = {}
        self.index: dict[str, int] = {}  # entry -> user id, like an Annoy id map

    def add(self, user_id: int) -> None:
        names = [
            default_storage.save(f"closet/{user_id}-photo.jpg", ContentFile(b"jpeg")),
            default_storage.save(f"closet/{user_id}-crop.jpg", ContentFile(b"jpeg")),
        ]
        self.files[user_id] = names
        self.index[f"item-{user_id}"] = user_id
        cache.set(self.cache_key(user_id), ["item"])

    @staticmethod
    def cache_key(user_id: int) -> str:
        return f"closet:{user_id}:items"

    def collect(self, *, user: User) -> UserData:
        user_id = user.pk
        return UserData(
            files=self.files.get(user_id, []),
            cache_keys=[self.cache_key(user_id)],
            on_deleted=[lambda: self.index.pop(f"item-{user_id}", None)],
        )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def closet(media) -> Iterator[FakeCloset]:
    fake = FakeCloset()
    user_cleanup_register(name="fake-closet", collect=fake.collect)
    yield fake
    user_cleanup_unregister(name="fake-closet")


def test_deleting_the_account_leaves_nothing_of_the_user_behind(
    kakao, closet, other_user, django_capture_on_commit_callbacks
):
    kakao.access_token("kakao-at-1", kakao_id=4242, email="mina@kakao.test")
    access, refresh = tokens_of(kakao_login({"access_token": "kakao-at-1"}))
    mina = User.objects.get(socialaccount__uid="4242")
    closet.add(mina.pk)
    undeclared = default_storage.save(
        f"{user_storage_prefix(user_id=mina.pk)}avatars/me.png", ContentFile(b"png")
    )
    # Joon's things must survive Mina's deletion.
    joon_access, _ = tokens_of(
        post_json(LOGIN_URL, {"email": other_user.email, "password": "s3cret-pass-word"})
    )
    closet.add(other_user.pk)
    mina_files = [*closet.files[mina.pk], undeclared]
    assert all(default_storage.exists(name) for name in mina_files)
    assert UserSession.objects.filter(user=mina).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = api("DELETE", ME_URL, bearer=access)

    assert response.status_code == 204
    # No file ...
    assert not any(default_storage.exists(name) for name in mina_files)
    # ... no row ...
    assert not User.objects.filter(pk=mina.pk).exists()
    assert not SocialAccount.objects.filter(uid="4242").exists()
    assert not EmailAddress.objects.filter(email="mina@kakao.test").exists()
    assert not UserSession.objects.filter(user_id=mina.pk).exists()
    assert all(s.get_decoded().get("_auth_user_id") != str(mina.pk) for s in Session.objects.all())
    # ... no cache or index entry ...
    assert cache.get(FakeCloset.cache_key(mina.pk)) is None
    assert f"item-{mina.pk}" not in closet.index
    # ... and no token that still works.
    assert api("GET", ME_URL, bearer=access).status_code == 401
    assert post_json(REFRESH_URL, {"refresh_token": refresh}).status_code == 400
    # Joon is untouched.
    assert all(default_storage.exists(name) for name in closet.files[other_user.pk])
    assert cache.get(FakeCloset.cache_key(other_user.pk)) == ["item"]
    assert closet.index[f"item-{other_user.pk}"] == other_user.pk
    assert api("GET", ME_URL, bearer=joon_access).status_code == 200


def test_deleting_an_account_with_nothing_stored_works(kakao, media):
    kakao.access_token("kakao-at-1", kakao_id=4242)
    access, _ = tokens_of(kakao_login({"access_token": "kakao-at-1"}))

    assert api("DELETE", ME_URL, bearer=access).status_code == 204
    assert not User.objects.exists()


def test_storage_failing_keeps_the_account_and_answers_503(kakao, closet, monkeypatch):
    kakao.access_token("kakao-at-1", kakao_id=4242)
    access, _ = tokens_of(kakao_login({"access_token": "kakao-at-1"}))
    mina = User.objects.get()
    closet.add(mina.pk)

    def storage_down(name: str) -> None:
        raise OSError("storage is down")

    monkeypatch.setattr(default_storage, "delete", storage_down)
    response = api("DELETE", ME_URL, bearer=access)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    monkeypatch.undo()
    assert api("GET", ME_URL, bearer=access).status_code == 200  # still there, try again
    assert api("DELETE", ME_URL, bearer=access).status_code == 204
    assert not any(default_storage.exists(name) for name in closet.files[mina.pk])


def test_a_failing_after_delete_step_does_not_undo_the_deletion(
    kakao, media, django_capture_on_commit_callbacks
):
    ran: list[str] = []

    def broken(*, user: User) -> UserData:
        def step() -> None:
            ran.append("broken")
            raise RuntimeError("index offline")

        return UserData(on_deleted=[step, lambda: ran.append("next")])

    user_cleanup_register(name="broken", collect=broken)
    try:
        kakao.access_token("kakao-at-1", kakao_id=4242)
        access, _ = tokens_of(kakao_login({"access_token": "kakao-at-1"}))
        with django_capture_on_commit_callbacks(execute=True):
            response = api("DELETE", ME_URL, bearer=access)
    finally:
        user_cleanup_unregister(name="broken")

    assert response.status_code == 204
    assert ran == ["broken", "next"]  # one failing step does not stop the others
    assert not User.objects.exists()


def test_registering_again_replaces_and_unregister_removes():
    def first(*, user: User) -> UserData:
        return UserData()

    def second(*, user: User) -> UserData:
        return UserData()

    user_cleanup_register(name="dup", collect=first)
    user_cleanup_register(name="dup", collect=second)
    try:
        assert user_cleanup_collectors()["dup"] is second
    finally:
        user_cleanup_unregister(name="dup")
    assert "dup" not in user_cleanup_collectors()


def test_deleting_a_user_in_the_admin_removes_their_files_too(closet, client):
    curator = User.objects.create_superuser(email="curator@example.com", password="pw-12345678")
    doomed = User.objects.create_user(email="doomed@example.com", password="pw-12345678")
    closet.add(doomed.pk)
    client.force_login(curator)

    response = client.post(f"/admin/accounts/user/{doomed.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=doomed.pk).exists()
    assert not any(default_storage.exists(name) for name in closet.files[doomed.pk])
