"""Import a catalog file (JSON Lines or CSV) into shops, products and product images.

The columns are documented in the README ("Catalog import"). Each row is one product,
identified by (shop, external id): a second import of the same file changes nothing and
queues no image for encoding again; a changed row updates its product, and only images
whose bytes changed are processed again. A bad row is reported with its line number and
the reason, and skipped; each good row is written in its own transaction, so it lands
whole or not at all.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.catalog import services
from apps.catalog.models import Category, Product, ProductImage, Shop
from backend.api.errors import ApplicationError
from backend.uploads import CheckedImage, check_image_bytes
from config.taxonomy import styles

logger = logging.getLogger(__name__)

COLUMNS = (
    "shop",
    "shop_kind",
    "shop_url",
    "external_id",
    "name",
    "brand",
    "price",
    "currency",
    "category",
    "style_tags",
    "purchase_url",
    "on_air_start",
    "on_air_end",
    "is_active",
    "images",
)
REQUIRED = ("shop", "external_id", "name", "price", "category")
LIST_SEPARATOR = "|"
_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off"}


class RowError(Exception):
    """What is wrong with one row, in words a curator can act on."""


@dataclass(frozen=True)
class ImportRow:
    line: int
    shop: str
    shop_kind: str | None
    shop_url: str
    external_id: str
    data: services.ProductData
    images: tuple[str, ...] | None  # None: the row says nothing about images; keep them


@dataclass(frozen=True)
class FetchedImage:
    ref: str
    data: bytes
    checked: CheckedImage
    digest: str


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    images_added: int = 0
    images_kept: int = 0
    images_removed: int = 0
    shops_created: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


# --- reading ---------------------------------------------------------------------------------


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    raise ApplicationError(
        f"Cannot tell the format of {path.name}: name it .jsonl (JSON Lines) or .csv."
    )


def count_rows(path: Path) -> int:
    """Rows in the file, for the progress bar (a CSV's header is not a row)."""
    with path.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    return max(0, lines - 1) if file_format(path) == "csv" else lines


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """(line number, the row as a dict, or the reason it cannot be read) for every row."""
    if file_format(path) == "jsonl":
        with path.open(encoding="utf-8-sig") as handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield number, RowError(f"not valid JSON ({exc.msg} at column {exc.colno})")
                    continue
                if not isinstance(value, dict):
                    yield number, RowError("a line must hold one JSON object")
                    continue
                yield number, value
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        reader = csv.DictReader(handle, delimiter=delimiter)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ApplicationError(
                f"The CSV header lacks the column(s) {', '.join(missing)}; "
                f"the columns are: {', '.join(COLUMNS)}."
            )
        start = 2
        for raw in reader:
            if None in raw:
                yield start, RowError(f"{len(raw[None])} value(s) more than the header has columns")
            else:
                yield start, {k: v for k, v in raw.items() if k is not None}
            start = reader.line_num + 1


# --- parsing ---------------------------------------------------------------------------------


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if isinstance(value, list | dict):
        raise RowError(f"{key}: expected text, got {type(value).__name__}")
    return str(value).strip()


def _list(raw: dict[str, Any], key: str) -> tuple[str, ...] | None:
    if key not in raw or raw[key] is None:
        return None
    value = raw[key]
    if isinstance(value, list):
        items = [str(v).strip() for v in value]
    else:
        text = str(value)
        if key == "style_tags":  # tags may also be separated by commas
            text = text.replace(",", LIST_SEPARATOR)
        items = [part.strip() for part in text.split(LIST_SEPARATOR)]
    return tuple(i for i in items if i)


def _price(value: Any) -> Decimal:
    text = str(value).strip().replace(",", "").replace("_", "").replace(" ", "")
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise RowError(f"price: {value!r} is not a number") from None
    if not price.is_finite() or price < 0:
        raise RowError(f"price: {value!r} must be zero or more")
    if price >= Decimal("1e10"):
        raise RowError(f"price: {value!r} is too large")
    return price.quantize(Decimal("0.01"))


def _moment(raw: dict[str, Any], key: str) -> datetime | None:
    text = _text(raw, key)
    if not text:
        return None
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise RowError(f"{key}: {text!r} is not an ISO 8601 date and time (2026-11-21T20:00+09:00)")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _bool(raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError(f"{key}: {value!r} is not true or false")


_url = URLValidator(schemes=["http", "https"])


def parse_row(raw: dict[str, Any], *, line: int) -> ImportRow:
    """Check one row's fields; raise :class:`RowError` naming every field that is wrong."""
    problems: list[str] = []

    def attempt(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except RowError as exc:
            problems.append(str(exc))
            return None

    for key in REQUIRED:
        if raw.get(key) is None or not str(raw.get(key)).strip():
            problems.append(f"{key} is required")
    shop = attempt(lambda: _text(raw, "shop"))
    external_id = attempt(lambda: _text(raw, "external_id"))
    if external_id and len(external_id) > 100:
        problems.append("external_id: longer than 100 characters")
    name = attempt(lambda: _text(raw, "name"))
    if name and len(name) > 200:
        problems.append("name: longer than 200 characters")
    brand = attempt(lambda: _text(raw, "brand")) or ""
    price = attempt(lambda: _price(raw["price"])) if raw.get("price") not in (None, "") else None
    currency = (attempt(lambda: _text(raw, "currency")) or "KRW").upper()
    if len(currency) != 3 or not currency.isalpha():
        problems.append(f"currency: {currency!r} is not a 3-letter code (KRW)")
    category = (attempt(lambda: _text(raw, "category")) or "").lower()
    if category and category not in Category.values:
        problems.append(f"category: {category!r} is not one of {', '.join(Category.values)}")
    tags = tuple(t.lower() for t in (attempt(lambda: _list(raw, "style_tags")) or ()))
    unknown = [t for t in tags if t not in styles()]
    if unknown:
        problems.append(f"style_tags: unknown style(s) {', '.join(unknown)}")
    purchase_url = attempt(lambda: _text(raw, "purchase_url")) or ""
    if purchase_url:
        try:
            _url(purchase_url)
        except ValidationError:
            problems.append(f"purchase_url: {purchase_url!r} is not an http(s) URL")
    shop_url = attempt(lambda: _text(raw, "shop_url")) or ""
    if shop_url:
        try:
            _url(shop_url)
        except ValidationError:
            problems.append(f"shop_url: {shop_url!r} is not an http(s) URL")
    shop_kind = (attempt(lambda: _text(raw, "shop_kind")) or "").lower() or None
    if shop_kind and shop_kind not in Shop.Kind.values:
        problems.append(f"shop_kind: {shop_kind!r} is not one of {', '.join(Shop.Kind.values)}")
    start = attempt(lambda: _moment(raw, "on_air_start"))
    end = attempt(lambda: _moment(raw, "on_air_end"))
    if (start is None) != (end is None):
        problems.append("on_air_start and on_air_end go together: give both or neither")
    elif start and end and end <= start:
        problems.append("on_air_end must be after on_air_start")
    is_active = attempt(lambda: _bool(raw, "is_active", True))
    images = attempt(lambda: _list(raw, "images"))
    if problems:
        raise RowError("; ".join(problems))
    return ImportRow(
        line=line,
        shop=shop,
        shop_kind=shop_kind,
        shop_url=shop_url,
        external_id=external_id,
        data=services.ProductData(
            name=name,
            price=price,
            category=category,
            brand=brand[:100],
            currency=currency,
            style_tags=tags,
            purchase_url=purchase_url,
            on_air_start=start,
            on_air_end=end,
            is_active=bool(is_active),
        ),
        images=images,
    )


# --- images ----------------------------------------------------------------------------------


def fetch_image_bytes(ref: str, *, base_dir: Path, timeout: float, max_bytes: int) -> bytes:
    """The bytes an image reference names: an http(s) URL, or a path (relative to the file)."""
    scheme = urlparse(ref).scheme.lower()
    if scheme in ("http", "https"):
        try:
            with requests.get(ref, timeout=timeout, stream=True) as response:
                if response.status_code != 200:
                    raise RowError(f"image {ref}: the server answered {response.status_code}")
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise RowError(f"image {ref}: larger than {max_bytes} bytes")
                chunks, size = [], 0
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise RowError(f"image {ref}: larger than {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except requests.Timeout:
            raise RowError(f"image {ref}: no answer within {timeout:g} s") from None
        except requests.RequestException as exc:
            raise RowError(f"image {ref}: download failed ({type(exc).__name__})") from None
    if scheme and len(scheme) > 1:  # "c:" is a Windows drive, anything else a scheme
        raise RowError(f"image {ref}: only http(s) URLs and file paths are accepted")
    path = Path(ref).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise RowError(f"image {ref}: no such file ({path})")
    if path.stat().st_size > max_bytes:
        raise RowError(f"image {ref}: larger than {max_bytes} bytes")
    return path.read_bytes()


def fetch_images(refs: tuple[str, ...], *, base_dir: Path) -> list[FetchedImage]:
    """Download/read and check each image; a row with any bad image is skipped whole."""
    timeout = float(getattr(settings, "CATALOG_IMPORT_DOWNLOAD_TIMEOUT", 15.0))
    max_bytes = int(getattr(settings, "CATALOG_IMPORT_MAX_BYTES", settings.UPLOAD_MAX_BYTES))
    fetched, seen = [], set()
    for ref in refs:
        data = fetch_image_bytes(ref, base_dir=base_dir, timeout=timeout, max_bytes=max_bytes)
        try:
            checked = check_image_bytes(data)
        except ApplicationError as exc:
            raise RowError(f"image {ref}: {exc.message}") from None
        digest = services.content_hash(data)
        if digest in seen:
            continue  # the same picture twice in one row
        seen.add(digest)
        fetched.append(FetchedImage(ref=ref, data=data, checked=checked, digest=digest))
    return fetched


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowOutcome:
    product: str  # created | updated | unchanged
    shop_id: int
    shop_created: bool
    images_added: int
    images_kept: int
    images_removed: int


class _DryRunRollback(Exception):
    pass


def product_row_apply(
    *,
    row: ImportRow,
    images: list[FetchedImage] | None,
    dry_run: bool = False,
    shops: dict[str, Shop] | None = None,
) -> RowOutcome:
    """Write one row (shop if new, product, tags, images) in one transaction.

    With ``dry_run`` the same writes run and are rolled back (no image file is stored), so
    the outcome reported is the one a real run would have. ``shops`` caches the shops of
    rows already written, by name (saves a query per row on a long file).
    """
    stored: list[str] = []
    outcome: RowOutcome | None = None
    key = row.shop.casefold()
    try:
        with transaction.atomic():
            cached = shops.get(key) if shops is not None else None
            if cached is not None:
                shop, shop_created = cached, False
            else:
                shop, shop_created = services.shop_get_or_create(
                    name=row.shop, kind=row.shop_kind, site_url=row.shop_url
                )
            product, what = services.product_upsert(
                shop=shop, external_id=row.external_id, data=row.data, recompute_mood=False
            )
            added = kept = removed = 0
            if images is not None:
                added, kept, removed = _sync_images(
                    product=product, images=images, dry_run=dry_run, stored=stored
                )
                if what == "unchanged" and (added or removed):
                    what = "updated"
            outcome = RowOutcome(what, shop.pk, shop_created, added, kept, removed)
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    except Exception:
        from django.core.files.storage import default_storage

        for name in stored:
            default_storage.delete(name)
        raise
    assert outcome is not None
    if shops is not None and not dry_run:
        shops[key] = shop
    return outcome


def _sync_images(
    *, product: Product, images: list[FetchedImage], dry_run: bool, stored: list[str]
) -> tuple[int, int, int]:
    """Make the product's images the row's: keep same bytes, add new ones, drop the rest."""
    existing = {image.content_hash: image for image in product.images.all()}
    added = kept = 0
    for position, fetched in enumerate(images):
        role = ProductImage.Role.MAIN if position == 0 else ProductImage.Role.EXTRA
        current = existing.pop(fetched.digest, None)
        if current is not None:
            kept += 1
            changes = {"role": role, "position": position, "source_url": fetched.ref[:500]}
            dirty = [k for k, v in changes.items() if getattr(current, k) != v]
            if dirty:
                for key in dirty:
                    setattr(current, key, changes[key])
                current.save(update_fields=[*dirty, "updated_at"])
            continue
        added += 1
        if dry_run:
            continue
        image = services.product_image_add(
            product=product,
            data=fetched.data,
            role=role,
            position=position,
            source_url=fetched.ref,
            checked=fetched.checked,
        )
        stored.append(image.file.name)
    for leftover in existing.values():
        services.product_image_delete(image=leftover)
    return added, kept, len(existing)


def catalog_import(
    *,
    path: Path,
    dry_run: bool = False,
    on_row: Callable[[int, str | None], None] | None = None,
) -> ImportSummary:
    """Import every row of ``path``; bad rows are collected in ``summary.errors``.

    Args:
        path: a ``.jsonl`` or ``.csv`` file; image paths in it are relative to its folder.
        dry_run: check and report everything, write nothing.
        on_row: called after each row with its line number and the error (None if good).
    """
    import time

    started = time.perf_counter()
    summary = ImportSummary(dry_run=dry_run)
    base_dir = path.resolve().parent
    services.style_rows_ensure()
    shops: set[int] = set()
    new_shops: set[str] = set()
    shop_cache: dict[str, Shop] = {}
    for line, raw in read_rows(path):
        summary.rows += 1
        error: str | None = None
        try:
            if isinstance(raw, RowError):
                raise raw
            row = parse_row(raw, line=line)
            images = fetch_images(row.images, base_dir=base_dir) if row.images is not None else None
            outcome = product_row_apply(row=row, images=images, dry_run=dry_run, shops=shop_cache)
        except (RowError, ApplicationError) as exc:
            error = exc.message if isinstance(exc, ApplicationError) else str(exc)
        except ValidationError as exc:
            error = "; ".join(exc.messages)
        else:
            setattr(summary, outcome.product, getattr(summary, outcome.product) + 1)
            summary.images_added += outcome.images_added
            summary.images_kept += outcome.images_kept
            summary.images_removed += outcome.images_removed
            if outcome.shop_created:
                new_shops.add(row.shop.casefold())
            shops.add(outcome.shop_id)
        if error:
            summary.skipped += 1
            summary.errors.append((line, error))
            logger.info("catalog.import_row_skipped line=%s reason=%s", line, error)
        if on_row:
            on_row(line, error)
    summary.shops_created = len(new_shops)
    if not dry_run:
        services.shops_mood_recompute(shop_ids=shops)
    summary.seconds = time.perf_counter() - started
    logger.info(
        "catalog.import_done path=%s rows=%s created=%s updated=%s unchanged=%s skipped=%s "
        "seconds=%.2f dry_run=%s",
        path,
        summary.rows,
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.skipped,
        summary.seconds,
        dry_run,
    )
    return summary
