"""Reads on searches and recommendations, always scoped to one user.

Recommendation answers are cached under keys that hold everything they depend on: the
garment, the user's state (closet and feedback versions, from the database), the index
version (build + delta) and the filters. When any of those changes the key changes, so
a stale answer is never served; old entries expire on their own.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet

from apps.accounts.models import User
from apps.closet.models import ClosetItem
from apps.recommendations import recommend
from apps.recommendations.models import Garment, ProductFeedback, Search
from apps.recommendations.retrieval import catalog_index_version

logger = logging.getLogger(__name__)


def search_list(*, user: User, kind: str = Search.Kind.SEARCH) -> QuerySet[Search]:
    return Search.objects.filter(user=user, kind=kind).prefetch_related("garments")


def search_get(*, user: User, search_id: int, kind: str = Search.Kind.SEARCH) -> Search | None:
    return search_list(user=user, kind=kind).filter(pk=search_id).first()


def garment_get(*, user: User, garment_id: int) -> Garment | None:
    return Garment.objects.select_related("search").filter(pk=garment_id, search__user=user).first()


def user_state_version(*, user: User) -> str:
    """Changes whenever the user's closet or feedback changes: one round trip to the
    database (count and latest change of each), on the hot path of every cached answer."""
    items = ClosetItem._meta.db_table
    feedback = ProductFeedback._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {items} WHERE user_id = %s),"  # noqa: S608
            f" (SELECT MAX(updated_at) FROM {items} WHERE user_id = %s),"
            f" (SELECT COUNT(*) FROM {feedback} WHERE user_id = %s),"
            f" (SELECT MAX(created_at) FROM {feedback} WHERE user_id = %s)",
            [user.pk] * 4,
        )
        row = cursor.fetchone()
    return "/".join(str(value) for value in row)


def cache_key(*parts: Any) -> str:
    return (
        "recs:"
        + hashlib.sha1(":".join(str(p) for p in parts).encode(), usedforsecurity=False).hexdigest()
    )


def cached_answer(key: str, build: Callable[[], Any]) -> Any:
    """The answer cached under ``key``, or ``build()`` cached there now.

    The cache only speeds answers up: while it is unreachable (Redis restarting) every
    answer is computed, never an error.
    """
    try:
        answer = cache.get(key)
    except Exception:  # any cache client error: answer without the cache
        logger.warning("recommendations.cache_unavailable op=get", exc_info=True)
        return build()
    if answer is None:
        answer = build()
        try:
            cache.set(key, answer, settings.RECOMMENDATIONS_CACHE_SECONDS)
        except Exception:
            logger.warning("recommendations.cache_unavailable op=set", exc_info=True)
    return answer


def garment_recommendations_key(
    *,
    user: User,
    garment: Garment,
    filters: recommend.RecommendationFilters,
    limit: int,
    include_owned: bool,
    audience: str,
) -> str:
    """Everything the answer depends on: a change to any of these makes a new key."""
    return cache_key(
        "similar",
        garment.pk,
        user_state_version(user=user),
        catalog_index_version(category=garment.category),
        filters.key(),
        limit,
        include_owned,
        audience,
    )


def garment_recommendations(
    *,
    user: User,
    garment: Garment,
    filters: recommend.RecommendationFilters,
    limit: int,
    include_owned: bool,
) -> recommend.RecommendationList:
    if not garment.category:
        return recommend.RecommendationList()
    return recommend.similar_products(
        vector=recommend._vector(garment.embedding),
        encoder=garment.encoder,
        category=garment.category,
        style_vector=garment.style_vector,
        ownership=recommend.user_ownership(user=user),
        filters=filters,
        limit=limit,
        include_owned=include_owned,
    )


def garment_style_shops_key(*, user: User, garment: Garment, audience: str) -> str:
    return cache_key(
        "shops",
        garment.pk,
        user_state_version(user=user),
        catalog_index_version(category=garment.category),
        audience,
    )


def garment_style_shops(*, user: User, garment: Garment) -> tuple[str, list[recommend.ShopMatch]]:
    if not garment.category:
        return "", []
    return recommend.style_matched_shops(
        vector=recommend._vector(garment.embedding),
        encoder=garment.encoder,
        category=garment.category,
        style_vector=garment.style_vector,
        ownership=recommend.user_ownership(user=user),
    )


def user_feed(*, user: User) -> list[tuple[int, float]]:
    """The feed's ranked product ids (cached: paging through it is cheap)."""
    versions = [catalog_index_version(category=c) for c in ("top", "bottom", "outer", "dress")]
    return cached_answer(  # type: ignore[no-any-return]
        cache_key("feed", user.pk, user_state_version(user=user), *versions, user.preferred_styles),
        lambda: recommend.feed_products(user=user, ownership=recommend.user_ownership(user=user)),
    )


def look_key(*, user: User, search: Search, audience: str) -> str:
    versions = sorted({catalog_index_version(category=g.category) for g in search.garments.all()})
    return cache_key(
        "look", search.pk, search.status, user_state_version(user=user), *versions, audience
    )


def look_get(*, user: User, search: Search) -> tuple[list[recommend.LookGarment], float]:
    return recommend.look_report(user=user, garments=list(search.garments.all()))
