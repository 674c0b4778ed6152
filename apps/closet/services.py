"""Writes on the closet: add photos, process them, edit, delete, outfits."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image

from apps.accounts.deletion import UserData
from apps.accounts.models import User
from apps.closet.models import ClosetItem, ClosetSuggestion, Outfit
from backend.api.errors import ApplicationError, NotFoundError
from backend.processing import (
    ProcessingStatus,
    processing_claim,
    processing_enqueue,
    processing_fail,
    processing_reset,
    processing_succeed,
)
from backend.uploads import CheckedImage, check_image_bytes
from backend.vision import PhotoUnusable, photo_analyse
from ml.colour import dominant_colour

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = ("name", "notes", "category", "colour")


class InvalidBox(ApplicationError):
    code = "invalid_box"
    default_message = "The box must be [x1, y1, x2, y2] inside the photo, in its pixels."


def validate_box(box: Sequence[float] | None, *, width: int, height: int) -> list[float] | None:
    """The client's box as floats inside the (upright) photo, or a 400 saying what is wrong."""
    if box is None:
        return None
    if len(box) != 4:
        raise InvalidBox(f"The box has {len(box)} numbers; send four: [x1, y1, x2, y2].")
    x1, y1, x2, y2 = (float(v) for v in box)
    if not (x1 < x2 and y1 < y2):
        raise InvalidBox("The box needs x1 < x2 and y1 < y2 (top-left, then bottom-right).")
    if x1 < 0 or y1 < 0 or x2 > width + 1 or y2 > height + 1:
        raise InvalidBox(f"The box {box} reaches outside the {width}x{height} photo.")
    if (x2 - x1) < 8 or (y2 - y1) < 8:
        raise InvalidBox("The box is smaller than 8x8 pixels; box the whole garment.")
    return [x1, y1, min(x2, float(width)), min(y2, float(height))]


def _enqueue_processing(item_id: int) -> None:
    from worker.tasks.closet import process_closet_item

    process_closet_item.delay(item_id)


@transaction.atomic
def closet_item_create(
    *,
    user: User,
    photo: bytes,
    category: str = "",
    box: Sequence[float] | None = None,
    name: str = "",
    notes: str = "",
    checked: CheckedImage | None = None,
) -> ClosetItem:
    """Check the photo, store it and queue its processing; the item starts ``pending``.

    A bad photo or box raises a 400-class error before anything is stored.
    """
    checked = checked or check_image_bytes(photo)
    client_box = validate_box(box, width=checked.width, height=checked.height)
    item = ClosetItem(
        user=user,
        category=category,
        category_from_user=bool(category),
        client_box=client_box,
        name=name,
        notes=notes,
        photo_width=checked.width,
        photo_height=checked.height,
    )
    item.photo.save(f"photo{checked.extension}", ContentFile(photo), save=False)
    item.save()
    processing_enqueue(send=lambda: _enqueue_processing(item.pk), what=f"closet item {item.pk}")
    logger.info("closet.item_created user=%s item=%s bytes=%d", user.pk, item.pk, len(photo))
    return item


@transaction.atomic
def closet_item_update(*, item: ClosetItem, data: dict[str, Any]) -> ClosetItem:
    changed = [field for field in EDITABLE_FIELDS if field in data]
    for field in changed:
        setattr(item, field, data[field])
    if "category" in changed:
        item.category_from_user = True
        changed.append("category_from_user")
    if changed:
        item.save(update_fields=[*changed, "updated_at"])
    return item


def _delete_files_on_commit(*files: Any) -> None:
    names = [(f.storage, f.name) for f in files if f and f.name]

    def delete() -> None:
        for storage, name in names:
            try:
                storage.delete(name)
            except Exception:  # the row is gone either way; a leftover file is only logged
                logger.exception("closet.file_delete_failed name=%s", name)

    transaction.on_commit(delete)


@transaction.atomic
def closet_item_delete(*, item: ClosetItem) -> None:
    """Remove the item and its files; it stops counting as owned at once."""
    shared = ClosetItem.objects.filter(photo=item.photo.name).exclude(pk=item.pk).exists()
    _delete_files_on_commit(*([] if shared else [item.photo]), item.crop)
    item.delete()


def closet_user_data(*, user: User) -> UserData:
    """The closet's share of a user for account deletion: every photo and crop file."""
    items = ClosetItem.objects.filter(user=user).only("photo", "crop")
    return UserData(files=sorted({f.name for i in items for f in (i.photo, i.crop) if f}))


@transaction.atomic
def closet_suggestion_accept(*, user: User, suggestion_id: int) -> ClosetItem:
    """Turn a garment the pipeline found beside the kept one into an item of its own."""
    suggestion = (
        ClosetSuggestion.objects.select_for_update()
        .select_related("item")
        .filter(pk=suggestion_id, item__user=user)
        .first()
    )
    if suggestion is None:
        raise NotFoundError("No such suggestion.")
    if suggestion.accepted_item_id:
        raise ApplicationError(
            "This suggestion is already an item.",
            code="already_accepted",
            details={"item_id": suggestion.accepted_item_id},
        )
    source = suggestion.item
    item = ClosetItem.objects.create(
        user=user,
        photo=source.photo.name,  # the photo is shared; its file goes with the last item
        photo_width=source.photo_width,
        photo_height=source.photo_height,
        client_box=suggestion.box,
        category=suggestion.category,
        category_from_user=False,
    )
    suggestion.accepted_item = item
    suggestion.save(update_fields=["accepted_item"])
    processing_enqueue(send=lambda: _enqueue_processing(item.pk), what=f"closet item {item.pk}")
    return item


@transaction.atomic
def closet_items_reencode(*, item_ids: Iterable[int]) -> int:
    """Send ready items back through processing (a new encoder: their vectors must be
    remade, or the user's closet stops counting against products)."""
    ids = list(
        ClosetItem.objects.filter(pk__in=list(item_ids), status=ProcessingStatus.READY).values_list(
            "pk", flat=True
        )
    )
    processing_reset(queryset=ClosetItem.objects.filter(pk__in=ids))
    for item_id in ids:
        processing_enqueue(
            send=lambda item_id=item_id: _enqueue_processing(item_id),
            what=f"closet item {item_id}",
        )
    logger.info("closet.items_reencode_queued count=%s", len(ids))
    return len(ids)


def closet_item_process(*, item_id: int) -> None:
    """Detect, crop, encode and profile the item's garment; end ``ready`` or ``failed``.

    Running twice is harmless: an item already ``ready`` or ``failed`` is left alone.
    """
    from apps.recommendations.style import garment_profile

    item = processing_claim(model=ClosetItem, pk=item_id)
    if item is None:
        return
    try:
        garments = photo_analyse(
            file=item.photo,
            box=item.client_box,
            category=item.category if item.category_from_user else None,
        ).garments
    except PhotoUnusable as exc:
        processing_fail(model=ClosetItem, pk=item.pk, reason=str(exc))
        return
    if not garments:
        processing_fail(
            model=ClosetItem,
            pk=item.pk,
            reason="No garment was found in the photo; box the garment and upload it again.",
        )
        return
    kept, others = garments[0], garments[1:]
    profile = garment_profile(embedding=kept.embedding, category=kept.detection.category)

    with Image.open(io.BytesIO(kept.crop_jpeg)) as crop_image:
        colour = dominant_colour(crop_image)
    with transaction.atomic():
        item.box = kept.detection.box.as_list()
        item.category = item.category if item.category_from_user else profile.category
        item.colour = item.colour or colour
        item.embedding = kept.embedding.values
        item.encoder = kept.embedding.encoder_id
        item.style_vector = list(profile.style.scores)
        item.style_source = profile.style.source
        if item.crop:
            _delete_files_on_commit(item.crop)
        item.crop.save("crop.jpg", ContentFile(kept.crop_jpeg), save=False)
        ClosetSuggestion.objects.filter(item=item, accepted_item__isnull=True).delete()
        ClosetSuggestion.objects.bulk_create(
            ClosetSuggestion(
                item=item,
                box=g.detection.box.as_list(),
                category=g.detection.category or "",
                score=g.detection.score,
            )
            for g in others
        )
        processing_succeed(
            obj=item,
            fields=[
                "box",
                "category",
                "colour",
                "embedding",
                "encoder",
                "style_vector",
                "style_source",
                "crop",
                "updated_at",
            ],
        )
    logger.info(
        "closet.item_ready item=%s category=%s encoder=%s suggestions=%d",
        item.pk,
        item.category,
        item.encoder,
        len(others),
    )


@transaction.atomic
def outfit_create(
    *, user: User, name: str, items: Sequence[ClosetItem], occasion: str = "", season: str = "all"
) -> Outfit:
    outfit = Outfit.objects.create(user=user, name=name, occasion=occasion, season=season)
    outfit.items.set(items)
    return outfit


@transaction.atomic
def outfit_update(*, outfit: Outfit, data: dict[str, Any]) -> Outfit:
    for field in ("name", "occasion", "season"):
        if field in data:
            setattr(outfit, field, data[field])
    outfit.save()
    if "items" in data:
        outfit.items.set(data["items"])
    return outfit
