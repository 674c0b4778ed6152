"""Writes on accounts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from django.core.cache import cache
from django.core.files.storage import Storage, default_storage
from django.db import transaction

from apps.accounts.deletion import UserData, user_cleanup_collectors, user_storage_prefix
from apps.accounts.models import User
from backend.api.errors import ServiceUnavailableError

logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("nickname", "gender", "age_band", "preferred_styles", "sizes")


@transaction.atomic
def user_profile_update(*, user: User, data: dict[str, Any]) -> User:
    """Change the fields of the profile that ``data`` names; others stay as they are."""
    changed = [name for name in PROFILE_FIELDS if name in data]
    for name in changed:
        value = data[name]
        if name == "preferred_styles":
            value = list(dict.fromkeys(value))  # keep order, drop repeats
        setattr(user, name, value)
    if changed:
        user.save(update_fields=changed)
    return user


def user_delete(*, user: User) -> None:
    """Delete the user and everything of theirs: rows, files, sessions, cache and index entries.

    Order matters. The apps registered in :mod:`apps.accounts.deletion` first say what they
    hold (while their rows can still be read). Files go next: if storage fails, nothing else
    has been deleted and the user can simply try again (deleting a missing file is a no-op).
    Then sessions (so every access and refresh token stops working) and the rows, in one
    transaction; cache keys and the apps' ``on_deleted`` steps run once that has committed.

    Raises:
        ServiceUnavailableError: storage could not delete a file (code ``storage_unavailable``).
    """
    user_id = user.pk
    collected: dict[str, UserData] = {
        name: collect(user=user) for name, collect in user_cleanup_collectors().items()
    }
    files = {name for data in collected.values() for name in data.files if name}
    files.update(_storage_files_under(default_storage, user_storage_prefix(user_id=user_id)))
    try:
        for name in sorted(files):
            default_storage.delete(name)
    except Exception as error:  # OSError, botocore's errors...: the storage is the problem
        logger.exception("accounts.user_delete_failed user_id=%s stage=files", user_id)
        raise ServiceUnavailableError(
            "Your files could not be removed right now, so your account was kept as it was. "
            "Try again shortly.",
            code="storage_unavailable",
        ) from error

    cache_keys = [key for data in collected.values() for key in data.cache_keys]
    steps = [step for data in collected.values() for step in data.on_deleted]
    with transaction.atomic():
        sessions = _user_sessions_end(user=user)
        user.delete()
        transaction.on_commit(
            partial(_after_user_deleted, user_id=user_id, cache_keys=cache_keys, steps=steps)
        )
    logger.info(
        "accounts.user_deleted user_id=%s files=%s sessions=%s apps=%s",
        user_id,
        len(files),
        sessions,
        ",".join(collected) or "-",
    )


def _user_sessions_end(*, user: User) -> int:
    """End every session of the user (allauth usersessions records one per login)."""
    from allauth.usersessions.models import UserSession

    sessions = list(UserSession.objects.filter(user=user))
    for session in sessions:
        session.end()  # deletes the session from the session store, then the record
    return len(sessions)


def _after_user_deleted(
    *, user_id: int, cache_keys: list[str], steps: list[Callable[[], None]]
) -> None:
    if cache_keys:
        cache.delete_many(cache_keys)
    for step in steps:
        try:
            step()
        except Exception:  # the account is gone either way; say loudly what stayed behind
            logger.exception("accounts.user_delete_step_failed user_id=%s step=%r", user_id, step)


def _storage_files_under(storage: Storage, prefix: str) -> Iterator[str]:
    """Every file below ``prefix`` (a folder name ending in '/'), on disk or on S3."""
    try:
        folders, names = storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in names:
        yield f"{prefix}{name}"
    for folder in folders:
        yield from _storage_files_under(storage, f"{prefix}{folder}/")
