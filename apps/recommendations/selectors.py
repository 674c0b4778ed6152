"""Reads on searches and recommendations, always scoped to one user.

Recommendation answers are cached under keys that hold everything they depend on: the
garment, the user's state (closet and feedback versions, from the database), the index
version (build + delta) and the filters. When any of those changes the key changes, so
a stale answer is never served; old entries expire on their own.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, QuerySet

from apps.accounts.models import User
from apps.closet.selectors import closet_version
from apps.recommendations import recommend
from apps.recommendations.models import Garment, ProductFeedback, Search
from apps.recommendations.retrieval import catalog_index_version


def search_list(*, user: User, kind: str = Search.Kind.SEARCH) -> QuerySet[Search]:
    return Search.objects.filter(user=user, kind=kind).prefetch_related("garments")


def search_get(*, user: User, search_id: int, kind: str = Search.Kind.SEARCH) -> Search | None:
    return search_list(user=user, kind=kind).filter(pk=search_id).first()


def garment_get(*, user: User, garment_id: int) -> Garment | None:
    return Garment.objects.select_related("search").filter(pk=garment_id, search__user=user).first()


def feedback_version(*, user: User) -> str:
    summary = ProductFeedback.objects.filter(user=user).aggregate(
        n=Count("id"), last=Max("created_at")
    )
    last = summary["last"].timestamp() if summary["last"] else 0
    return f"{summary['n']}-{last:.6f}"


def user_state_version(*, user: User) -> str:
    """Changes whenever the user's closet or feedback changes."""
    return f"{closet_version(user=user)}/{feedback_version(user=user)}"


def _cached(key_parts: list[Any], compute: Any) -> Any:
    key = (
        "recs:"
        + hashlib.sha1(
            ":".join(str(p) for p in key_parts).encode(), usedforsecurity=False
        ).hexdigest()
    )
    answer = cache.get(key)
    if answer is None:
        answer = compute()
        cache.set(key, answer, settings.RECOMMENDATIONS_CACHE_SECONDS)
    return answer


def garment_recommendations(
    *,
    user: User,
    garment: Garment,
    filters: recommend.RecommendationFilters,
    limit: int,
    include_owned: bool,
) -> recommend.RecommendationList:
    def compute() -> recommend.RecommendationList:
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

    if not garment.category:
        return recommend.RecommendationList()
    return _cached(  # type: ignore[no-any-return]
        [
            "similar",
            garment.pk,
            user_state_version(user=user),
            catalog_index_version(category=garment.category),
            filters.key(),
            limit,
            include_owned,
        ],
        compute,
    )


def garment_style_shops(*, user: User, garment: Garment) -> tuple[str, list[recommend.ShopMatch]]:
    def compute() -> tuple[str, list[recommend.ShopMatch]]:
        return recommend.style_matched_shops(
            vector=recommend._vector(garment.embedding),
            encoder=garment.encoder,
            category=garment.category,
            style_vector=garment.style_vector,
            ownership=recommend.user_ownership(user=user),
        )

    if not garment.category:
        return "", []
    return _cached(  # type: ignore[no-any-return]
        [
            "shops",
            garment.pk,
            user_state_version(user=user),
            catalog_index_version(category=garment.category),
        ],
        compute,
    )


def user_feed(*, user: User) -> list[tuple[int, float]]:
    versions = [catalog_index_version(category=c) for c in ("top", "bottom", "outer", "dress")]
    return _cached(  # type: ignore[no-any-return]
        ["feed", user.pk, user_state_version(user=user), *versions, user.preferred_styles],
        lambda: recommend.feed_products(user=user, ownership=recommend.user_ownership(user=user)),
    )


def look_get(*, user: User, search: Search) -> tuple[list[recommend.LookGarment], float]:
    garments = list(search.garments.all())
    versions = sorted({catalog_index_version(category=g.category) for g in garments})
    return _cached(  # type: ignore[no-any-return]
        ["look", search.pk, search.status, user_state_version(user=user), *versions],
        lambda: recommend.look_report(user=user, garments=garments),
    )
