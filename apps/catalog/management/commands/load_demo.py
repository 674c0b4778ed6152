"""python manage.py load_demo: the demo catalog (shops, 480 rendered products), idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from apps.catalog.demo import DEMO_SHOPS, demo_load


class Command(BaseCommand):
    help = (
        "Create the demo shops (distinct style moods) and products with images drawn by "
        "ml.synthetic, encode them and build the indexes. Running it again changes nothing."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--products", type=int, default=480, help="How many (default 480).")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--no-encode", action="store_true", help="Leave the images to the worker's queue."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count = max(1, options["products"])
        bar = tqdm(total=count, unit="product", file=self.stderr._out, disable=count < 50)

        def progress(stage: str) -> None:
            if stage == "write":
                bar.update(1)

        try:
            summary = demo_load(
                count=count,
                seed=options["seed"],
                encode=not options["no_encode"],
                on_progress=progress,
            )
        finally:
            bar.close()
        self.stdout.write(
            f"Demo catalog: {len(DEMO_SHOPS)} shops, {count} products "
            f"({summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged); "
            f"{summary.encoded} images encoded"
            f"{f' ({summary.reencoded} were of an earlier encoder)' if summary.reencoded else ''}"
            f", {summary.failed} failed; "
            f"indexes built: {', '.join(summary.indexes) or 'none'}."
        )
        if summary.note:
            self.stdout.write(summary.note)
