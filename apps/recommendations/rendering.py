"""JSON for recommendation answers: products with their scores."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from apps.catalog.serializers import ProductSerializer
from apps.recommendations import recommend


def product_cards(items: list[recommend.Recommendation], request: Request) -> list[dict[str, Any]]:
    products = recommend.products_by_id([i.product_id for i in items])
    cards = []
    for item in items:
        product = products.get(item.product_id)
        if product is None:  # deleted since the answer was cached
            continue
        card = dict(ProductSerializer(product, context={"request": request}).data)
        card.update(
            similarity=item.similarity,
            style_match=item.style_match,
            owned=item.owned,
            owned_because=item.owned_because,
        )
        cards.append(card)
    return cards


def recommendation_list(answer: recommend.RecommendationList, request: Request) -> dict[str, Any]:
    return {
        "results": product_cards(answer.results, request),
        "left_out_owned": answer.left_out_owned,
        "left_out_dismissed": answer.left_out_dismissed,
    }
