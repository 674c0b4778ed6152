"""Reads behind the recommendation answers: similar products minus what the user owns,
style-matched shops, the wannabe look, the feed and the style profile.

Everything here is a selector (no writes); answers are cached by the callers in
:mod:`apps.recommendations.selectors` under keys holding the user's state version.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import Product, ProductCrop, ProductImage, Shop
from apps.closet.models import ClosetItem
from apps.recommendations.models import ProductFeedback
from apps.recommendations.retrieval import catalog_neighbours
from backend.processing import ProcessingStatus
from config.taxonomy import styles

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class RecommendationFilters:
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    shop_id: int | None = None
    on_air: bool | None = None

    def key(self) -> str:
        return f"{self.price_min}:{self.price_max}:{self.shop_id}:{self.on_air}"


@dataclass
class Recommendation:
    product_id: int
    crop_id: int
    similarity: float
    style_match: float
    owned: bool = False
    owned_because: str = ""


@dataclass
class RecommendationList:
    results: list[Recommendation] = field(default_factory=list)
    left_out_owned: int = 0
    left_out_dismissed: int = 0


def _vector(blob: bytes | memoryview) -> F32:
    return np.frombuffer(bytes(blob), dtype="<f4").astype(np.float32)


def style_tag_vector(tags: list[str]) -> F32:
    names = styles()
    vector = np.zeros(len(names), dtype=np.float32)
    for tag in tags:
        if tag in names:
            vector[names.index(tag)] = 1.0
    return vector


def cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    u, v = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    denominator = float(np.linalg.norm(u) * np.linalg.norm(v))
    return float(u @ v) / denominator if denominator > 0 else 0.0


# --- what the user owns ---------------------------------------------------------------------


@dataclass(frozen=True)
class Ownership:
    """The user's closet vectors (by category and encoder) and their feedback."""

    closet: dict[tuple[str, str], F32]
    said_owned: frozenset[int]
    dismissed: frozenset[int]

    def owned_by_look(self, *, category: str, encoder: str, vectors: F32) -> npt.NDArray[np.bool_]:
        items = self.closet.get((category, encoder))
        if items is None or not len(vectors):
            return np.zeros(len(vectors), dtype=bool)
        similarity: npt.NDArray[np.float32] = vectors @ items.T
        return np.asarray(similarity.max(axis=1) >= settings.OWNED_SIMILARITY)


def user_ownership(*, user: User) -> Ownership:
    closet: dict[tuple[str, str], list[F32]] = defaultdict(list)
    rows = ClosetItem.objects.filter(user=user, status=ProcessingStatus.READY).exclude(
        embedding=None
    )
    for category, encoder, blob in rows.values_list("category", "encoder", "embedding"):
        closet[(category, encoder)].append(_vector(blob))
    feedback = ProductFeedback.objects.filter(user=user).values_list("product_id", "kind")
    said_owned = frozenset(p for p, kind in feedback if kind == ProductFeedback.Kind.OWNED)
    dismissed = frozenset(p for p, kind in feedback if kind == ProductFeedback.Kind.NOT_INTERESTED)
    return Ownership(
        closet={key: np.stack(vectors) for key, vectors in closet.items()},
        said_owned=said_owned,
        dismissed=dismissed,
    )


# --- similar products -----------------------------------------------------------------------


def _product_filter(filters: RecommendationFilters, now: datetime) -> Q:
    q = Q(image__product__is_active=True, image__status=ProcessingStatus.READY)
    if filters.price_min is not None:
        q &= Q(image__product__price__gte=filters.price_min)
    if filters.price_max is not None:
        q &= Q(image__product__price__lte=filters.price_max)
    if filters.shop_id is not None:
        q &= Q(image__product__shop_id=filters.shop_id)
    if filters.on_air is not None:
        window = Q(image__product__on_air_start__lte=now, image__product__on_air_end__gt=now)
        q &= window if filters.on_air else ~window
    return q


def similar_products(
    *,
    vector: F32,
    encoder: str,
    category: str,
    style_vector: list[float] | None,
    ownership: Ownership,
    filters: RecommendationFilters,
    limit: int,
    include_owned: bool = False,
    allow_crop_ids: frozenset[int] | None = None,
) -> RecommendationList:
    """Products of ``category`` most like ``vector``, one entry per product, best first.

    Dismissed products never appear; owned ones are left out (counted) unless
    ``include_owned``, then marked. The index is asked for more candidates until ``limit``
    products pass the filters or the category is exhausted.
    """
    now = timezone.now()
    condition = _product_filter(filters, now)
    style = np.asarray(style_vector or [], dtype=np.float32)
    answer = RecommendationList()
    seen_products: set[int] = set()
    rejected_crops: set[int] = set()
    want = max(limit * 3, 30)
    while True:
        found = catalog_neighbours(
            vector=vector,
            encoder_id=encoder,
            categories=[category],
            k=want,
            exclude=rejected_crops,
            where=(lambda crop_id: crop_id in allow_crop_ids)
            if allow_crop_ids is not None
            else None,
        )
        fresh = [n for n in found if n.id not in rejected_crops]
        if not fresh:
            break
        rows = {
            row[0]: row
            for row in ProductCrop.objects.filter(
                condition, pk__in=[n.id for n in fresh]
            ).values_list("pk", "image__product_id", "embedding")
        }
        tags = _product_tags([row[1] for row in rows.values()])
        candidates = [(n, rows[n.id]) for n in fresh if n.id in rows]
        rejected_crops.update(n.id for n in fresh)
        if candidates:
            vectors = np.stack([_vector(row[2]) for _, row in candidates])
            by_look = ownership.owned_by_look(category=category, encoder=encoder, vectors=vectors)
        for position, (neighbour, (crop_id, product_id, _)) in enumerate(candidates):
            if product_id in seen_products:
                continue
            seen_products.add(product_id)
            if product_id in ownership.dismissed:
                answer.left_out_dismissed += 1
                continue
            said = product_id in ownership.said_owned
            owned = said or bool(by_look[position])
            if owned and not include_owned:
                answer.left_out_owned += 1
                continue
            answer.results.append(
                Recommendation(
                    product_id=product_id,
                    crop_id=crop_id,
                    similarity=round(float(neighbour.score), 4),
                    style_match=round(cosine(style, style_tag_vector(tags[product_id])), 4)
                    if len(style)
                    else 0.0,
                    owned=owned,
                    owned_because=(
                        "you said you own it"
                        if said
                        else "like an item in your closet"
                        if owned
                        else ""
                    ),
                )
            )
            if len(answer.results) >= limit:
                return answer
        if len(found) < want:
            break  # the category has nothing more to give
        want *= 4
    return answer


def _product_tags(product_ids: list[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = defaultdict(list)
    through = Product.style_tags.through.objects.filter(product_id__in=product_ids)
    for product_id, slug in through.values_list("product_id", "style_id"):
        tags[product_id].append(slug)
    return tags


# --- style-matched shops --------------------------------------------------------------------


@dataclass
class ShopMatch:
    shop_id: int
    share: float
    products: list[Recommendation]


def style_matched_shops(
    *,
    vector: F32,
    encoder: str,
    category: str,
    style_vector: list[float],
    ownership: Ownership,
    shops: int = 3,
    per_shop: int = 3,
) -> tuple[str, list[ShopMatch]]:
    """The ``shops`` shops whose mood holds the largest share of the garment's dominant
    style, each with its ``per_shop`` products most similar to the garment."""
    names = styles()
    dominant = names[int(np.argmax(style_vector))] if any(style_vector) else ""
    if not dominant:
        return "", []
    matches: list[ShopMatch] = []
    ranked = sorted(
        Shop.objects.filter(products__is_active=True, products__category=category).distinct(),
        key=lambda s: (-float(s.style_mood.get(dominant, 0.0)), s.pk),
    )
    for shop in ranked:
        share = float(shop.style_mood.get(dominant, 0.0))
        if share <= 0:
            break
        crop_ids = frozenset(
            ProductCrop.objects.filter(
                image__product__shop=shop, image__product__is_active=True, category=category
            ).values_list("pk", flat=True)
        )
        found = similar_products(
            vector=vector,
            encoder=encoder,
            category=category,
            style_vector=style_vector,
            ownership=ownership,
            filters=RecommendationFilters(shop_id=shop.pk),
            limit=per_shop,
            allow_crop_ids=crop_ids,
        )
        if found.results:
            matches.append(
                ShopMatch(shop_id=shop.pk, share=round(share, 4), products=found.results)
            )
        if len(matches) == shops:
            break
    return dominant, matches


# --- the user's style and the feed ------------------------------------------------------------


@dataclass(frozen=True)
class StyleProfile:
    scores: list[float]
    source: str  # "closet", "preferences" or "none"
    items: int

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        ranked = sorted(zip(styles(), self.scores, strict=True), key=lambda p: -p[1])
        return [(name, score) for name, score in ranked[:k] if score > 0]


def user_style_profile(*, user: User) -> StyleProfile:
    """23 numbers: the mean style vector of the user's ready closet items; with an empty
    closet, the styles they said they prefer."""
    vectors = [
        v
        for v in ClosetItem.objects.filter(user=user, status=ProcessingStatus.READY)
        .exclude(style_vector=None)
        .values_list("style_vector", flat=True)
        if v and len(v) == len(styles())
    ]
    if vectors:
        mean = np.mean(np.asarray(vectors, dtype=np.float64), axis=0)
        return StyleProfile([round(float(x), 4) for x in mean], "closet", len(vectors))
    preferred = style_tag_vector(list(user.preferred_styles or []))
    if preferred.any():
        return StyleProfile([float(x) for x in preferred / preferred.sum()], "preferences", 0)
    return StyleProfile([0.0] * len(styles()), "none", 0)


def feed_products(*, user: User, ownership: Ownership, size: int = 200) -> list[tuple[int, float]]:
    """Products matching the user's style, not owned, not dismissed, spread across
    categories and shops: (product id, style match), best first."""
    profile = np.asarray(user_style_profile(user=user).scores, dtype=np.float32)
    top = [
        name
        for name, _ in sorted(zip(styles(), profile, strict=True), key=lambda p: -p[1])[:5]
        if _ > 0
    ]
    products = Product.objects.filter(
        is_active=True, images__status=ProcessingStatus.READY
    ).exclude(pk__in=ownership.said_owned | ownership.dismissed)
    if top:
        products = products.filter(style_tags__in=top)
    candidates = list(
        products.distinct()
        .order_by("-created_at")
        .values_list("pk", "category", "shop_id")[: size * 4]
    )
    tags = _product_tags([pk for pk, _, _ in candidates])
    owned = _owned_by_look(candidates, ownership)
    scored = [
        (pk, category, shop, cosine(profile, style_tag_vector(tags[pk])) if top else 0.0)
        for pk, category, shop in candidates
        if pk not in owned
    ]
    scored.sort(key=lambda row: -row[3])
    return _spread(scored)[:size]


def _owned_by_look(candidates: list[tuple[int, str, int]], ownership: Ownership) -> set[int]:
    if not ownership.closet:
        return set()
    owned: set[int] = set()
    crops = ProductCrop.objects.filter(
        image__product_id__in=[pk for pk, _, _ in candidates], image__status=ProcessingStatus.READY
    ).values_list("image__product_id", "category", "encoder", "encoder_version", "embedding")
    for product_id, category, name, version, blob in crops:
        vector = _vector(blob)[None, :]
        if ownership.owned_by_look(category=category, encoder=f"{name}@{version}", vectors=vector)[
            0
        ]:
            owned.add(product_id)
    return owned


def _spread(scored: list[tuple[int, str, int, float]]) -> list[tuple[int, float]]:
    """Re-order so that neighbours differ in category and shop: each pick takes the best
    remaining product whose category and shop were used least so far."""
    used_category: dict[str, int] = defaultdict(int)
    used_shop: dict[int, int] = defaultdict(int)
    remaining = list(scored)
    ordered: list[tuple[int, float]] = []
    while remaining:
        best = min(
            range(min(len(remaining), 50)),
            key=lambda i: (used_category[remaining[i][1]] + used_shop[remaining[i][2]], i),
        )
        pk, category, shop, score = remaining.pop(best)
        used_category[category] += 1
        used_shop[shop] += 1
        ordered.append((pk, round(score, 4)))
    return ordered


# --- the wannabe look ---------------------------------------------------------------------------


@dataclass
class LookGarment:
    garment_id: int
    closest_item_id: int | None
    similarity: float
    owned: bool
    recommendations: RecommendationList


def look_report(*, user: User, garments: list, limit: int = 6) -> tuple[list[LookGarment], float]:
    """For each garment of a look: the closest closet item, owned or missing; for the
    missing ones, recommendations; and the share of the look the user already owns."""
    ownership = user_ownership(user=user)
    items = list(
        ClosetItem.objects.filter(user=user, status=ProcessingStatus.READY)
        .exclude(embedding=None)
        .values_list("pk", "category", "encoder", "embedding")
    )
    report: list[LookGarment] = []
    for garment in garments:
        vector = _vector(garment.embedding)
        best_id, best = None, -1.0
        for pk, category, encoder, blob in items:
            if category == garment.category and encoder == garment.encoder:
                score = float(_vector(blob) @ vector)
                if score > best:
                    best_id, best = pk, score
        owned = best >= settings.LOOK_OWNED_SIMILARITY
        recommendations = (
            RecommendationList()
            if owned or not garment.category
            else similar_products(
                vector=vector,
                encoder=garment.encoder,
                category=garment.category,
                style_vector=garment.style_vector,
                ownership=ownership,
                filters=RecommendationFilters(),
                limit=limit,
            )
        )
        report.append(
            LookGarment(
                garment_id=garment.pk,
                closest_item_id=best_id,
                similarity=round(max(best, 0.0), 4),
                owned=owned,
                recommendations=recommendations,
            )
        )
    coverage = sum(g.owned for g in report) / len(report) if report else 0.0
    return report, round(coverage, 4)


def products_by_id(ids: list[int]) -> dict[int, Product]:
    from django.db.models import Prefetch

    images = ProductImage.objects.order_by("position", "id")
    products = (
        Product.objects.filter(pk__in=ids)
        .select_related("shop")
        .prefetch_related("style_tags", Prefetch("images", queryset=images))
    )
    return {p.pk: p for p in products}
