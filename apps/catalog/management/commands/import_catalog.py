"""python manage.py import_catalog FILE [--dry-run]: shops and products from JSON Lines or CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.catalog.imports import ImportSummary, catalog_import, count_rows, file_format
from backend.api.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import products from a .jsonl or .csv file (columns: see the README, 'Catalog "
        "import'). Idempotent by (shop, external_id); bad rows are reported and skipped."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and image; write nothing."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            file_format(path)
            total = count_rows(path)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        bar = tqdm(
            total=total,
            unit="row",
            disable=options["no_progress"] or total < 200,
            file=self.stderr._out,
            dynamic_ncols=True,
        )

        def advance(line: int, error: str | None) -> None:
            bar.update(1)

        try:
            summary = catalog_import(path=path, dry_run=options["dry_run"], on_row=advance)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        finally:
            bar.close()
        self._report(summary)

    def _report(self, s: ImportSummary) -> None:
        for line, reason in s.errors:
            self.stderr.write(f"line {line}: {reason}")
        head = "Dry run (nothing written): " if s.dry_run else ""
        queued = "to be queued for encoding" if s.dry_run else "queued for encoding"
        self.stdout.write(
            f"{head}{s.rows} rows in {s.seconds:.1f} s ({s.rows_per_second:.0f} rows/s): "
            f"{s.created} created, {s.updated} updated, {s.unchanged} unchanged, "
            f"{s.skipped} skipped; images: {s.images_added} new ({queued}), "
            f"{s.images_kept} unchanged, {s.images_removed} removed; "
            f"{s.shops_created} new shop(s)."
        )
