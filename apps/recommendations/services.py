"""Writes on searches (photos the user shops from, looks they want) and feedback."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from django.core.files.base import ContentFile
from django.db import transaction

from apps.accounts.deletion import UserData
from apps.accounts.models import User
from apps.closet.services import validate_box
from apps.recommendations.models import Garment, ProductFeedback, Search
from backend.api.errors import NotFoundError
from backend.processing import (
    ProcessingStatus,
    processing_claim,
    processing_enqueue,
    processing_fail,
    processing_succeed,
)
from backend.uploads import CheckedImage, check_image_bytes
from backend.vision import PhotoUnusable, photo_analyse

logger = logging.getLogger(__name__)

#: the longest a POST may wait for its search to finish before answering 202
MAX_WAIT_SECONDS = 8.0


def search_user_data(*, user: User) -> UserData:
    """Searches' share of a user for account deletion: photos and garment crops."""
    photos = Search.objects.filter(user=user).values_list("photo", flat=True)
    crops = Garment.objects.filter(search__user=user).values_list("crop", flat=True)
    return UserData(files=sorted({name for name in [*photos, *crops] if name}))


def _enqueue(search_id: int) -> None:
    from worker.tasks.searches import process_search

    process_search.delay(search_id)


@transaction.atomic
def search_create(
    *,
    user: User,
    photo: bytes,
    kind: str = Search.Kind.SEARCH,
    box: Sequence[float] | None = None,
    category: str = "",
    checked: CheckedImage | None = None,
) -> Search:
    """Check the photo, store it and queue its analysis; the search starts ``pending``."""
    checked = checked or check_image_bytes(photo)
    client_box = validate_box(box, width=checked.width, height=checked.height)
    search = Search(
        user=user,
        kind=kind,
        client_box=client_box,
        client_category=category,
        photo_width=checked.width,
        photo_height=checked.height,
    )
    search.photo.save(f"photo{checked.extension}", ContentFile(photo), save=False)
    search.save()
    processing_enqueue(send=lambda: _enqueue(search.pk), what=f"search {search.pk}")
    logger.info("search.created user=%s search=%s kind=%s", user.pk, search.pk, kind)
    return search


def search_wait(*, search: Search, seconds: float) -> Search:
    """Poll until the search is ``ready``/``failed`` or ``seconds`` pass (capped)."""
    deadline = time.monotonic() + min(max(seconds, 0.0), MAX_WAIT_SECONDS)
    while search.status not in (ProcessingStatus.READY, ProcessingStatus.FAILED):
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
        search.refresh_from_db()
    return search


def search_process(*, search_id: int) -> None:
    """Find the people and garments in the photo, encode and profile each garment."""
    from apps.recommendations.style import garment_profile

    search = processing_claim(model=Search, pk=search_id)
    if search is None:
        return
    try:
        analysis = photo_analyse(
            file=search.photo, box=search.client_box, category=search.client_category or None
        )
    except PhotoUnusable as exc:
        processing_fail(model=Search, pk=search.pk, reason=str(exc))
        return
    if not analysis.garments:
        processing_fail(
            model=Search,
            pk=search.pk,
            reason="No garment was found in the photo; tap the garment to box it and try again.",
        )
        return
    rows = []
    for index, found in enumerate(analysis.garments):
        profile = garment_profile(
            embedding=found.embedding, category=found.detection.category or None
        )
        garment = Garment(
            search=search,
            index=index,
            box=found.detection.box.as_list(),
            category=profile.category,
            label=found.detection.label,
            score=found.detection.score,
            person_index=found.detection.person_index,
            embedding=found.embedding.values,
            encoder=found.embedding.encoder_id,
            style_vector=list(profile.style.scores),
            style_source=profile.style.source,
        )
        garment.crop.save("crop.jpg", ContentFile(found.crop_jpeg), save=False)
        rows.append(garment)
    with transaction.atomic():
        Garment.objects.filter(search=search).delete()  # a re-run replaces, never duplicates
        Garment.objects.bulk_create(rows)
        search.people = [
            {"box": p.box.as_list(), "score": round(p.score, 4)} for p in analysis.people
        ]
        processing_succeed(obj=search, fields=["people", "updated_at"])
    logger.info(
        "search.ready search=%s people=%d garments=%d", search.pk, len(analysis.people), len(rows)
    )


@transaction.atomic
def product_feedback_add(*, user: User, product_id: int, kind: str) -> ProductFeedback:
    """Record "I own this" / "not interested"; saying it twice is harmless."""
    from apps.catalog.models import Product

    if not Product.objects.filter(pk=product_id, is_active=True).exists():
        raise NotFoundError("No such product.")
    feedback, _ = ProductFeedback.objects.get_or_create(user=user, product_id=product_id, kind=kind)
    return feedback


@transaction.atomic
def product_feedback_remove(*, user: User, product_id: int, kind: str) -> None:
    deleted, _ = ProductFeedback.objects.filter(
        user=user, product_id=product_id, kind=kind
    ).delete()
    if not deleted:
        raise NotFoundError("No such feedback on this product.")
