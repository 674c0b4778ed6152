"""Reads on the closet, always scoped to one user."""

from __future__ import annotations

from django.db.models import Count, Max, QuerySet

from apps.accounts.models import User
from apps.closet.models import ClosetItem, ClosetSuggestion, Outfit
from backend.processing import ProcessingStatus


def closet_item_list(*, user: User, category: str = "", status: str = "") -> QuerySet[ClosetItem]:
    items = ClosetItem.objects.filter(user=user)
    if category:
        items = items.filter(category=category)
    if status:
        items = items.filter(status=status)
    return items.prefetch_related("suggestions")


def closet_item_get(*, user: User, item_id: int) -> ClosetItem | None:
    return closet_item_list(user=user).filter(pk=item_id).first()


def closet_items_ready(*, user: User, category: str = "") -> QuerySet[ClosetItem]:
    """Items whose embedding is known: the ones that count as owned."""
    return closet_item_list(user=user, category=category, status=ProcessingStatus.READY).exclude(
        embedding=None
    )


def closet_version(*, user: User) -> str:
    """Changes whenever an item is added, edited, processed or deleted (for cache keys)."""
    summary = ClosetItem.objects.filter(user=user).aggregate(n=Count("id"), last=Max("updated_at"))
    last = summary["last"].timestamp() if summary["last"] else 0
    return f"{summary['n']}-{last:.6f}"


def outfit_list(*, user: User) -> QuerySet[Outfit]:
    return Outfit.objects.filter(user=user).prefetch_related("items")


def outfit_get(*, user: User, outfit_id: int) -> Outfit | None:
    return outfit_list(user=user).filter(pk=outfit_id).first()


def closet_suggestion_list(*, user: User) -> QuerySet[ClosetSuggestion]:
    return ClosetSuggestion.objects.filter(item__user=user, accepted_item__isnull=True)
