"""What other apps hold for a user, so that deleting the user leaves nothing of theirs.

Deleting a user (``apps.accounts.services.user_delete``) removes their rows by cascade. What
a cascade cannot reach (files in storage, cache entries, Annoy index entries) each app
declares here, once, in its ``AppConfig.ready``::

    # apps/closet/apps.py
    class ClosetConfig(AppConfig):
        def ready(self) -> None:
            from apps.accounts.deletion import user_cleanup_register
            from apps.closet.services import closet_user_data

            user_cleanup_register(name="closet", collect=closet_user_data)

    # apps/closet/services.py
    def closet_user_data(*, user: User) -> UserData:
        items = list(ClosetItem.objects.filter(user=user))
        return UserData(
            files=[name for item in items for name in (item.photo.name, item.crop.name) if name],
            cache_keys=[closet_cache_key(user_id=user.pk)],
            on_deleted=[partial(closet_index_remove, item_ids=[i.pk for i in items])],
        )

A collector is called with ``user=`` *before* any row goes (so it can still read them)
and only reads: it returns a :class:`UserData`. ``user_delete`` then deletes the files,
deletes the rows, and once that has committed deletes the cache keys and runs
``on_deleted`` callables (for index entries and other outside state).

Files an app stores under :func:`user_storage_prefix` are removed even if no collector
names them, as a safety net.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from apps.accounts.models import User


@dataclass(frozen=True)
class UserData:
    """One app's share of a user outside the database rows."""

    files: Sequence[str] = ()
    """Names in the default storage (``FieldFile.name``)."""
    cache_keys: Sequence[str] = ()
    """Keys in the default cache."""
    on_deleted: Sequence[Callable[[], None]] = field(default_factory=tuple)
    """Run after the user's rows are gone and committed (e.g. drop index entries)."""


class UserDataCollector(Protocol):
    def __call__(self, *, user: User) -> UserData: ...


_collectors: dict[str, UserDataCollector] = {}


def user_cleanup_register(*, name: str, collect: UserDataCollector) -> None:
    """Declare what app ``name`` holds for a user (idempotent: registering again replaces)."""
    _collectors[name] = collect


def user_cleanup_unregister(*, name: str) -> None:
    _collectors.pop(name, None)


def user_cleanup_collectors() -> dict[str, UserDataCollector]:
    return dict(_collectors)


def user_storage_prefix(*, user_id: int) -> str:
    """The storage folder for a user's files (``users/<id>/``); removed whole on deletion."""
    return f"users/{int(user_id)}/"
