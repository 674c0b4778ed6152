"""Writes on accounts."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.accounts.models import User

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
