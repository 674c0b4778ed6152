"""Reads on searches, always scoped to one user."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.recommendations.models import Garment, Search


def search_list(*, user: User, kind: str = Search.Kind.SEARCH) -> QuerySet[Search]:
    return Search.objects.filter(user=user, kind=kind).prefetch_related("garments")


def search_get(*, user: User, search_id: int, kind: str = Search.Kind.SEARCH) -> Search | None:
    return search_list(user=user, kind=kind).filter(pk=search_id).first()


def garment_get(*, user: User, garment_id: int) -> Garment | None:
    return Garment.objects.select_related("search").filter(pk=garment_id, search__user=user).first()
