"""Writes on the catalog: shops, products, their images, crops and index versions.

Every write that changes something derived goes through here so the derived part follows:
a product's tags or active flag change → its shop's style mood is recomputed at once; an
image's bytes change → it goes back to ``pending`` and its processing is queued on commit.

Two calls leave Django for the ``ml`` library, each behind one setting that names a
function (``config/settings/base.py``, "Catalog"):

- ``CATALOG_IMAGE_ANALYSER``: image bytes → the garments found, each with its box,
  embedding and (optionally) style vector. Called by :func:`product_image_process`.
- ``CATALOG_INDEX_BUILDER``: crop ids + their vectors → a published index version
  (``ml.index.build_index``). Called by :func:`index_rebuild`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.module_loading import import_string
from PIL import Image, ImageOps

from apps.catalog.models import (
    Category,
    IndexVersion,
    ProcessingStatus,
    Product,
    ProductCrop,
    ProductImage,
    Shop,
    Style,
)
from backend.api.errors import ApplicationError, ConflictError
from backend.processing import processing_enqueue, processing_reset
from backend.uploads import CheckedImage, check_image_bytes
from config.taxonomy import styles
from ml.image import ImageError
from ml.types import Detection, Embedding, StyleVector

logger = logging.getLogger(__name__)

PROCESS_TASK = "worker.tasks.catalog.process_product_image"
REBUILD_TASK = "worker.tasks.catalog.rebuild_index"

#: A ``processing`` image older than this is taken over by the next task (its worker died).
PROCESSING_STALE_AFTER = timedelta(minutes=15)

#: Style vectors made from the product's curated tags carry this source.
CURATED_STYLE_SOURCE = "curated-tags"


# --- the ml entry points ------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysedGarment:
    """One garment the analyser found in a product image.

    The shape the ``CATALOG_IMAGE_ANALYSER`` function returns a sequence of (any object with
    these three attributes will do). ``detection.box`` is in the pixels of the image once
    its EXIF orientation is applied. ``style`` may be ``None``; it is stored only for a
    product without curated style tags (the tags make the vector otherwise).
    """

    detection: Detection
    embedding: Embedding
    style: StyleVector | None = None


class ImageAnalyser(Protocol):
    def __call__(self, data: bytes, *, category: str | None) -> Sequence[AnalysedGarment]: ...


class BuiltIndex(Protocol):
    """What the builder returns (``ml.index.IndexManifest`` has these)."""

    version: str
    count: int
    build_seconds: float


class IndexBuilder(Protocol):
    """``ml.index.build_index``: builds a new version under ``root/<category>/`` and
    publishes it (makes it the one readers map) before returning its manifest."""

    def __call__(
        self,
        root: Path,
        category: str,
        ids: Sequence[int],
        vectors: npt.NDArray[np.float32],
        *,
        encoder_id: str,
        config: Any = None,
    ) -> BuiltIndex: ...


class PipelineUnavailable(ApplicationError):
    status_code = 503
    code = "pipeline_unavailable"
    default_message = "Image analysis is not available on this server."


def _resolve(setting_name: str, fallback: str) -> Callable[..., Any]:
    path = getattr(settings, setting_name, fallback)
    try:
        return import_string(path)  # type: ignore[no-any-return]
    except ImportError as exc:
        raise PipelineUnavailable(
            f"{setting_name} names {path!r}, which cannot be imported ({exc})."
        ) from exc


def image_analyser() -> ImageAnalyser:
    return _resolve("CATALOG_IMAGE_ANALYSER", "ml.pipeline.analyse_product_image")  # type: ignore[return-value]


def analyser_encoder_id() -> str | None:
    """The ``name@version`` the configured image analyser embeds with, or None when it is
    not the default pipeline (a custom analyser does not say)."""
    if settings.CATALOG_IMAGE_ANALYSER != "ml.pipeline.analyse_product_image":
        return None
    from ml.registry import get_registry

    return get_registry().encoder().encoder_id


def index_builder() -> IndexBuilder:
    return _resolve("CATALOG_INDEX_BUILDER", "ml.index.build_index")  # type: ignore[return-value]


# --- tasks ----------------------------------------------------------------------------------


_here = threading.local()


@contextmanager
def images_processed_here() -> Iterator[None]:
    """Within it, new or changed product images are not queued for the worker: the caller
    processes them itself (the demo loader encodes inline; queued copies would only be a
    backlog of no-op tasks ahead of the first user's photos). A row the caller leaves
    pending is still found and queued by the sweeper."""
    previous = getattr(_here, "active", False)
    _here.active = True
    try:
        yield
    finally:
        _here.active = previous


def _enqueue_on_commit(task_name: str, *args: Any) -> None:
    """Queue a worker task once the current transaction commits (never a rolled-back row)."""
    if task_name == PROCESS_TASK and getattr(_here, "active", False):
        return

    def send() -> None:
        from worker.celery import app

        app.send_task(task_name, args=list(args))
        logger.debug("catalog.task_queued task=%s args=%s", task_name, args)

    processing_enqueue(send=send, what=f"{task_name} {args}")


def _delete_files_on_commit(names: Iterable[str]) -> None:
    names = [n for n in names if n]
    if not names:
        return

    def delete() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except Exception:  # a stale file is cheaper than a failed request
                logger.warning("catalog.file_delete_failed name=%s", name, exc_info=True)

    transaction.on_commit(delete)


# --- shops ----------------------------------------------------------------------------------


def shop_get_or_create(
    *, name: str, kind: str | None = None, site_url: str | None = None
) -> tuple[Shop, bool]:
    """The shop of that name (case as stored), created with ``kind``/``site_url`` if missing."""
    name = name.strip()
    if not name:
        raise ApplicationError("A shop needs a name.")
    shop = Shop.objects.filter(name__iexact=name).first()
    if shop:
        return shop, False
    shop = Shop(name=name, kind=kind or Shop.Kind.MALL, site_url=site_url or "")
    shop.full_clean()
    shop.save()
    logger.info("catalog.shop_created shop=%s name=%s", shop.pk, name)
    return shop, True


def shop_mood_recompute(*, shop: Shop) -> dict[str, float]:
    """Recompute the shop's style mood: the share of its active products tagged with each style.

    A product may carry several tags, so the shares do not sum to 1; a shop with no active
    product has a mood of zeros.
    """
    active = Product.objects.filter(shop=shop, is_active=True)
    total = active.count()
    counts = dict(
        Product.style_tags.through.objects.filter(product__in=active)
        .values_list("style_id")
        .annotate(n=Count("id"))
        .values_list("style_id", "n")
    )
    mood = {style: round(counts.get(style, 0) / total, 6) if total else 0.0 for style in styles()}
    Shop.objects.filter(pk=shop.pk).update(
        style_mood=mood, mood_product_count=total, mood_updated_at=timezone.now()
    )
    shop.style_mood, shop.mood_product_count = mood, total
    return mood


def shops_mood_recompute(*, shop_ids: Iterable[int]) -> None:
    for shop in Shop.objects.filter(pk__in=set(shop_ids)):
        shop_mood_recompute(shop=shop)


# --- products -------------------------------------------------------------------------------


def _validate_styles(tags: Iterable[str]) -> list[str]:
    known = set(styles())
    tags = list(dict.fromkeys(t.strip().lower() for t in tags if t and t.strip()))
    unknown = [t for t in tags if t not in known]
    if unknown:
        raise ApplicationError(
            f"Unknown style(s): {', '.join(unknown)}. Known: {', '.join(styles())}.",
            details={"style_tags": unknown},
        )
    return tags


def _style_vector_from_tags(tags: Iterable[str]) -> list[float]:
    chosen = set(tags)
    if not chosen:
        return []
    weight = 1.0 / len(chosen)
    return [weight if style in chosen else 0.0 for style in styles()]


def _refresh_curated_style_vectors(*, product: Product) -> None:
    """Crops whose style vector came from the product's tags follow the tags."""
    tags = list(product.style_tags.values_list("slug", flat=True))
    ProductCrop.objects.filter(
        image__product=product, style_source__in=[CURATED_STYLE_SOURCE, ""]
    ).update(
        style_vector=_style_vector_from_tags(tags),
        style_source=CURATED_STYLE_SOURCE if tags else "",
    )


@dataclass(frozen=True)
class ProductData:
    """The fields of a product a curator or an import sets (everything but shop and id)."""

    name: str
    price: Decimal
    category: str
    brand: str = ""
    currency: str = "KRW"
    style_tags: tuple[str, ...] = ()
    purchase_url: str = ""
    on_air_start: Any = None
    on_air_end: Any = None
    is_active: bool = True


_PRODUCT_FIELDS = (
    "name",
    "price",
    "category",
    "brand",
    "currency",
    "purchase_url",
    "on_air_start",
    "on_air_end",
    "is_active",
)


def product_upsert(
    *, shop: Shop, external_id: str, data: ProductData, recompute_mood: bool = True
) -> tuple[Product, str]:
    """Create or update the product ``(shop, external_id)``.

    Returns the product and what happened: ``created``, ``updated`` or ``unchanged``.
    ``recompute_mood=False`` leaves the shop's mood to the caller (a bulk import does it
    once per shop at the end).
    """
    tags = _validate_styles(data.style_tags)
    through = Product.style_tags.through
    # No savepoint of its own: inside an import row, a failure here fails the whole row.
    with transaction.atomic(savepoint=False):
        product = (
            Product.objects.select_for_update().filter(shop=shop, external_id=external_id).first()
        )
        created = product is None
        if product is None:
            product = Product(shop=shop, external_id=external_id)
        changed = []
        for field in _PRODUCT_FIELDS:
            value = getattr(data, field)
            if getattr(product, field) != value:
                setattr(product, field, value)
                changed.append(field)
        if created or changed:
            product.full_clean(exclude=["shop"], validate_unique=False, validate_constraints=False)
            product.save()
        if created:
            through.objects.bulk_create([through(product_id=product.pk, style_id=t) for t in tags])
            tags_changed = bool(tags)
        else:
            old = set(through.objects.filter(product=product).values_list("style_id", flat=True))
            tags_changed = old != set(tags)
            if tags_changed:
                product.style_tags.set(tags)
                _refresh_curated_style_vectors(product=product)
        outcome = "created" if created else ("updated" if changed or tags_changed else "unchanged")
        if recompute_mood and (tags_changed or "is_active" in changed or created):
            shop_mood_recompute(shop=shop)
    return product, outcome


@transaction.atomic
def product_curation_apply(*, product: Product, previous_shop_id: int | None = None) -> None:
    """What follows a curator's edit in the admin (tags, active flag, shop, category).

    The shop mood (and the old shop's, when the product moved) is recomputed at once, and
    the crops whose style vector comes from the tags follow them. A changed category is
    applied to the crops that a curator has not fixed one by one.
    """
    _refresh_curated_style_vectors(product=product)
    ProductCrop.objects.filter(image__product=product).exclude(
        category_source=ProductCrop.CategorySource.CURATOR
    ).update(category=product.category)
    shop_mood_recompute(shop=product.shop)
    if previous_shop_id and previous_shop_id != product.shop_id:
        shops_mood_recompute(shop_ids=[previous_shop_id])


@transaction.atomic
def product_style_tags_set(*, product: Product, style_tags: Iterable[str]) -> Product:
    """Set a product's style tags; its shop's mood follows at once."""
    tags = _validate_styles(style_tags)
    product.style_tags.set(tags)
    _refresh_curated_style_vectors(product=product)
    shop_mood_recompute(shop=product.shop)
    return product


@transaction.atomic
def products_deactivate(*, product_ids: Iterable[int]) -> int:
    """Mark products inactive (out of the API and the next index); moods follow."""
    products = Product.objects.filter(pk__in=list(product_ids), is_active=True)
    shop_ids = set(products.values_list("shop_id", flat=True))
    crops = list(
        ProductCrop.objects.filter(image__product__in=products).values_list("pk", "category")
    )
    count = products.update(is_active=False, updated_at=timezone.now())
    shops_mood_recompute(shop_ids=shop_ids)
    transaction.on_commit(lambda: _index_forget(crops))
    logger.info("catalog.products_deactivated count=%s", count)
    return count


# --- product images ---------------------------------------------------------------------------


def _index_learn(crops: list[tuple[int, str]], embeddings: list[Embedding]) -> None:
    """Freshly encoded crops join their category's delta: findable before the next build."""
    from apps.recommendations.retrieval import catalog_index_add

    for (pk, category), embedding in zip(crops, embeddings, strict=True):
        catalog_index_add(
            category=category,
            crop_ids=[pk],
            vectors=embedding.to_numpy()[None, :],
            encoder_id=embedding.encoder_id,
        )


def _index_forget(crops: list[tuple[int, str]]) -> None:
    from apps.recommendations.retrieval import catalog_index_remove

    by_category: dict[str, list[int]] = {}
    for pk, category in crops:
        by_category.setdefault(category, []).append(pk)
    for category, ids in by_category.items():
        catalog_index_remove(category=category, crop_ids=ids)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@transaction.atomic
def product_image_add(
    *,
    product: Product,
    data: bytes,
    role: str = ProductImage.Role.MAIN,
    position: int = 0,
    source_url: str = "",
    checked: CheckedImage | None = None,
) -> ProductImage:
    """Store a new image for ``product`` (after the upload checks) and queue its processing.

    Raises:
        ImageRejected: the bytes are not an acceptable image; nothing is stored.
    """
    checked = checked or check_image_bytes(data)
    image = ProductImage(
        product=product,
        role=role,
        position=position,
        source_url=source_url[:500],
        content_hash=content_hash(data),
        width=checked.width,
        height=checked.height,
    )
    image.file.save(f"image{checked.extension}", ContentFile(data), save=False)
    try:
        image.save()
    except Exception:
        default_storage.delete(image.file.name)
        raise
    _enqueue_on_commit(PROCESS_TASK, image.pk)
    return image


@transaction.atomic
def product_image_file_changed(*, image: ProductImage) -> ProductImage:
    """After a curator uploaded a (new) file for an image: check it, reset it, queue it.

    Nothing is queued when the bytes are the ones already processed.
    """
    image.file.open("rb")
    try:
        data = image.file.read()
    finally:
        image.file.close()
    checked = check_image_bytes(data)
    digest = content_hash(data)
    image.width, image.height = checked.width, checked.height
    if digest == image.processed_hash and image.status == ProcessingStatus.READY:
        image.content_hash = digest
        image.save(update_fields=["width", "height", "content_hash", "updated_at"])
        return image
    image.content_hash = digest
    _set_status(image, ProcessingStatus.PENDING)
    image.save()
    _enqueue_on_commit(PROCESS_TASK, image.pk)
    return image


@transaction.atomic
def product_image_delete(*, image: ProductImage) -> None:
    names = [image.file.name, *image.crops.values_list("file", flat=True)]
    image.delete()
    _delete_files_on_commit(names)


@transaction.atomic
def product_images_reencode(*, image_ids: Iterable[int], enqueue: bool = True) -> int:
    """Send images back through processing (curator's "re-encode", a new encoder); with
    ``enqueue`` off the caller processes them itself."""
    ids = list(ProductImage.objects.filter(pk__in=list(image_ids)).values_list("pk", flat=True))
    processing_reset(queryset=ProductImage.objects.filter(pk__in=ids), processed_hash="")
    for image_id in ids if enqueue else ():
        _enqueue_on_commit(PROCESS_TASK, image_id)
    logger.info("catalog.images_reencode_queued count=%s", len(ids))
    return len(ids)


def _set_status(image: ProductImage, status: str, reason: str = "") -> None:
    now = timezone.now()
    image.status = status
    image.failure_reason = reason
    image.status_changed_at = now
    if status == ProcessingStatus.PROCESSING:
        image.processing_started_at = now
    if status in (ProcessingStatus.READY, ProcessingStatus.FAILED):
        image.processed_at = now


def _claim(image_id: int) -> ProductImage | None:
    """Move the image to ``processing`` unless there is nothing to do; None then."""
    with transaction.atomic():
        image = (
            ProductImage.objects.select_for_update()
            .select_related("product")
            .filter(pk=image_id)
            .first()
        )
        if image is None:
            logger.info("catalog.image_gone image=%s", image_id)
            return None
        if image.status == ProcessingStatus.READY and image.processed_hash == image.content_hash:
            logger.info("catalog.image_already_ready image=%s", image_id)
            return None
        if (
            image.status == ProcessingStatus.PROCESSING
            and image.processing_started_at
            and timezone.now() - image.processing_started_at < PROCESSING_STALE_AFTER
        ):
            logger.info("catalog.image_being_processed image=%s", image_id)
            return None
        _set_status(image, ProcessingStatus.PROCESSING)
        image.attempts += 1
        image.save(
            update_fields=[
                "status",
                "failure_reason",
                "status_changed_at",
                "processing_started_at",
                "attempts",
                "updated_at",
            ]
        )
        return image


def _fail(image_id: int, claimed_hash: str, reason: str) -> None:
    with transaction.atomic():
        image = ProductImage.objects.select_for_update().filter(pk=image_id).first()
        if image is None or image.content_hash != claimed_hash:
            return  # deleted or replaced meanwhile; the replacement has its own task
        _set_status(image, ProcessingStatus.FAILED, reason[:2000])
        image.save()
    logger.warning("catalog.image_failed image=%s reason=%s", image_id, reason)


def _crop_jpeg(picture: Image.Image, box: list[float]) -> bytes:
    x1, y1, x2, y2 = (round(v) for v in box)
    crop = picture.crop((x1, y1, x2, y2))
    buffer = io.BytesIO()
    crop.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _garments_for_product(
    found: Sequence[AnalysedGarment], *, category: str
) -> list[AnalysedGarment]:
    """A product shot shows the product's garment: keep those of its category.

    A detector may also see what the model wears with it (trousers under the coat on
    sale); those are dropped. When no detection has the product's category (the detector
    disagrees, or has no classes), the most confident one stands for the product.
    """
    matching = [g for g in found if g.detection.category in (None, category)]
    if matching:
        return sorted(matching, key=lambda g: -g.detection.score)
    return [max(found, key=lambda g: g.detection.score)] if found else []


def product_image_process(*, image_id: int, analyser: ImageAnalyser | None = None) -> str | None:
    """Process one product image: pending → processing → ready | failed (with a reason).

    Detects the garment(s) through the analyser (``CATALOG_IMAGE_ANALYSER``), stores one
    crop row per garment kept (box, crop file, embedding with encoder name + version, style
    vector) and marks the image ready. Safe to run twice: an image already processed for
    its current bytes is left alone, and results for bytes replaced meanwhile are dropped.

    Returns the final status, or None when there was nothing to do.
    """
    image = _claim(image_id)
    if image is None:
        return None
    claimed_hash = image.content_hash
    product = image.product
    started = time.perf_counter()
    try:
        with image.file.open("rb") as handle:
            data = handle.read()
    except (OSError, ValueError) as exc:
        _fail(image_id, claimed_hash, f"The stored file cannot be read: {exc}")
        return ProcessingStatus.FAILED
    try:
        # The analyser decodes the bytes once (the same checks as uploads) and crops.
        analyse = analyser or image_analyser()
        found = list(analyse(data, category=product.category))
    except ImageError as exc:
        _fail(image_id, claimed_hash, f"The stored file is not a usable image: {exc}")
        return ProcessingStatus.FAILED
    except PipelineUnavailable as exc:
        _fail(image_id, claimed_hash, exc.message)
        return ProcessingStatus.FAILED
    except Exception as exc:
        logger.exception("catalog.image_analysis_error image=%s", image_id)
        _fail(image_id, claimed_hash, f"Analysis failed: {type(exc).__name__}: {exc}")
        return ProcessingStatus.FAILED

    kept = _garments_for_product(found, category=product.category)
    if not kept:
        _fail(image_id, claimed_hash, "No garment was found in the image.")
        return ProcessingStatus.FAILED

    picture: Image.Image | None = None  # decoded only for an analyser that gives no crops
    crops: list[tuple[AnalysedGarment, list[float], bytes]] = []
    for garment in kept:
        jpeg = getattr(garment, "crop_jpeg", None)
        if jpeg is None:
            picture = picture or ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert(
                "RGB"
            )
            box = garment.detection.box.clip(*picture.size)
            if box.width < 1 or box.height < 1:
                continue
            jpeg = _crop_jpeg(picture, box.as_list())
        crops.append((garment, garment.detection.box.as_list(), jpeg))
    if not crops:
        _fail(image_id, claimed_hash, "Every garment box found lies outside the image.")
        return ProcessingStatus.FAILED

    saved_files: list[str] = []
    try:
        with transaction.atomic():
            image = ProductImage.objects.select_for_update().filter(pk=image_id).first()  # type: ignore[assignment]
            if image is None or image.content_hash != claimed_hash:
                logger.info("catalog.image_replaced_during_processing image=%s", image_id)
                return None
            tags = list(product.style_tags.values_list("slug", flat=True))
            previous = {c.index: c for c in image.crops.all()}
            old_files = [c.file.name for c in previous.values()]
            image.crops.all().delete()
            for index, (garment, box, jpeg) in enumerate(crops):
                old = previous.get(index)
                curated = (
                    old is not None and old.category_source == ProductCrop.CategorySource.CURATOR
                )
                # A curator's tags are the truth about a catalog product's style; the
                # analyser's guess serves only products nobody has tagged yet.
                style = None if tags else garment.style
                crop = ProductCrop(
                    image=image,
                    index=index,
                    box=box,
                    category=old.category if curated and old else product.category,
                    category_source=(
                        ProductCrop.CategorySource.CURATOR
                        if curated
                        else ProductCrop.CategorySource.PRODUCT
                    ),
                    score=garment.detection.score,
                    embedding=garment.embedding.values,
                    embedding_dim=garment.embedding.dim,
                    encoder=garment.embedding.encoder,
                    encoder_version=garment.embedding.version,
                    style_vector=list(style.scores) if style else _style_vector_from_tags(tags),
                    style_source=style.source if style else (CURATED_STYLE_SOURCE if tags else ""),
                )
                crop.file.save(f"crop{index}.jpg", ContentFile(jpeg), save=False)
                saved_files.append(crop.file.name)
                crop.save()
            _set_status(image, ProcessingStatus.READY)
            image.processed_hash = claimed_hash
            image.save()
            _delete_files_on_commit(old_files)
            fresh = [(c.pk, c.category) for c in image.crops.all()]
            transaction.on_commit(lambda: _index_learn(fresh, [g.embedding for g, _, _ in crops]))
    except Exception:
        for name in saved_files:
            default_storage.delete(name)
        raise
    logger.info(
        "catalog.image_ready image=%s crops=%s encoder=%s seconds=%.3f",
        image_id,
        len(crops),
        crops[0][0].embedding.encoder_id,
        time.perf_counter() - started,
    )
    return ProcessingStatus.READY


def crop_category_set(*, crop: ProductCrop, category: str) -> ProductCrop:
    """A curator fixes a crop's category; it goes into that category's next index."""
    if category not in Category.values:
        raise ApplicationError(
            f"Unknown category {category!r}; one of {', '.join(Category.values)}."
        )
    crop.category = category
    crop.category_source = ProductCrop.CategorySource.CURATOR
    crop.save(update_fields=["category", "category_source", "updated_at"])
    return crop


# --- index versions -------------------------------------------------------------------------------


def index_rebuild_enqueue(*, categories: Iterable[str]) -> list[str]:
    chosen = [c for c in dict.fromkeys(categories) if c in Category.values]
    for category in chosen:
        _enqueue_on_commit(REBUILD_TASK, category)
    return chosen


def _index_crops(category: str) -> Any:
    return ProductCrop.objects.filter(
        category=category,
        image__status=ProcessingStatus.READY,
        image__product__is_active=True,
    )


def index_rebuild(
    *, category: str, encoder: str | None = None, builder: IndexBuilder | None = None
) -> IndexVersion:
    """Build a new index for ``category`` from the ready crops of active products; make it live.

    ``encoder`` (``name@version``) picks whose vectors go in; by default the encoder most of
    the category's crops were made with (vectors of different encoders never share an
    index). The index items are crop ids. The builder (``CATALOG_INDEX_BUILDER``) writes a
    new version under ``INDEX_DIR/<category>/versions/`` and publishes it; the row saying
    so becomes live in the transaction that retires the previous one.
    """
    if category not in Category.values:
        raise ApplicationError(
            f"Unknown category {category!r}; one of {', '.join(Category.values)}."
        )
    crops = _index_crops(category)
    if encoder is None:
        counts = Counter(
            f"{name}@{version}" for name, version in crops.values_list("encoder", "encoder_version")
        )
        if not counts:
            raise ConflictError(f"No encoded {category} product is ready; nothing to index.")
        encoder = counts.most_common(1)[0][0]
    name, _, version = encoder.partition("@")
    rows = list(
        crops.filter(encoder=name, encoder_version=version)
        .order_by("pk")
        .values_list("pk", "embedding", "embedding_dim")
    )
    if not rows:
        raise ConflictError(f"No {category} crop encoded with {encoder}; nothing to index.")
    dims = {dim for _, _, dim in rows}
    if len(dims) != 1:
        raise ConflictError(f"{category} crops of {encoder} have different sizes: {sorted(dims)}.")
    item_ids = [pk for pk, _, _ in rows]
    vectors = np.stack([np.frombuffer(bytes(blob), dtype="<f4") for _, blob, _ in rows]).astype(
        np.float32
    )
    root = Path(settings.INDEX_DIR)
    build = builder or index_builder()
    started = time.perf_counter()
    from apps.recommendations.retrieval import index_config

    built = build(root, category, item_ids, vectors, encoder_id=encoder, config=index_config())
    seconds = float(getattr(built, "build_seconds", 0.0) or (time.perf_counter() - started))
    with transaction.atomic():
        IndexVersion.objects.filter(category=category, is_live=True).update(is_live=False)
        index = IndexVersion.objects.create(
            category=category,
            encoder=encoder,
            version=built.version,
            path=str(root / category / "versions" / built.version),
            item_count=int(getattr(built, "count", len(item_ids))),
            built_at=timezone.now(),
            build_seconds=round(seconds, 3),
            is_live=True,
        )
    logger.info(
        "catalog.index_built category=%s encoder=%s version=%s items=%s seconds=%.3f",
        category,
        encoder,
        index.version,
        index.item_count,
        seconds,
    )
    return index


def style_rows_ensure() -> int:
    """Create the Style rows of the taxonomy the table lacks; the number created.

    Migration 0002 seeds them; this puts them back where a database was emptied without
    migrating again (a test flush, a restore of data only).
    """
    existing = set(Style.objects.values_list("slug", flat=True))
    missing = [
        Style(slug=slug, position=position)
        for position, slug in enumerate(styles())
        if slug not in existing
    ]
    Style.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def index_maintain(*, now: datetime | None = None) -> list[str]:
    """Rebuild each category's index whose delta has grown past ``INDEX_REBUILD_DELTA_SIZE``
    crops or whose oldest change has waited ``INDEX_REBUILD_DELTA_AGE_SECONDS``; build a
    category's first index as soon as it has a ready crop. Returns the categories rebuilt.

    Run by beat. Between builds the delta keeps every change findable; the rebuild only
    keeps queries fast.
    """
    from ml.index import cleanup_versions, current_manifest

    now = now or timezone.now()
    root = Path(settings.INDEX_DIR)
    rebuilt = []
    for category in Category.values:
        manifest = current_manifest(root, category)
        crops = _index_crops(category)
        if manifest is None:
            if crops.exists():
                index_rebuild(category=category)
                rebuilt.append(category)
            continue
        built_at = datetime.fromisoformat(manifest.built_at)
        added = crops.filter(created_at__gt=built_at)
        removed = Product.objects.filter(
            category=category, is_active=False, updated_at__gt=built_at
        )
        pending = added.count() + removed.count()
        if not pending:
            continue
        oldest = min(
            filter(
                None,
                [
                    added.order_by("created_at").values_list("created_at", flat=True).first(),
                    removed.order_by("updated_at").values_list("updated_at", flat=True).first(),
                ],
            )
        )
        waited = (now - oldest).total_seconds()
        if (
            pending >= settings.INDEX_REBUILD_DELTA_SIZE
            or waited >= settings.INDEX_REBUILD_DELTA_AGE_SECONDS
        ):
            try:
                index_rebuild(category=category)
            except ConflictError:  # nothing left to index (every product deactivated)
                continue
            rebuilt.append(category)
        cleanup_versions(root, category, grace_seconds=settings.INDEX_GRACE_SECONDS)
    return rebuilt
