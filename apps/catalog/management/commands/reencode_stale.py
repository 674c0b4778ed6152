"""python manage.py reencode_stale: remake every vector an earlier encoder made.

After the encoder changes (another ``ML_ENCODER``, new weights, or a new version of the
default descriptor), the catalog's product crops and the users' closet items still hold the
old encoder's vectors. An index never mixes two encoders, and a closet item only counts
against products of its own encoder, so until they are encoded again recommendations and
the "already owned" check miss them. This command sends each such product image and closet
item back through processing on the worker (the indexes rebuild as the crops come back).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.catalog import selectors
from apps.catalog import services as catalog
from apps.closet import services as closet
from apps.closet.models import ClosetItem
from backend.processing import ProcessingStatus


class Command(BaseCommand):
    help = (
        "Queue every product image and closet item encoded by another encoder than the running one."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count them; queue nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        from ml.registry import get_registry

        running = get_registry().encoder().encoder_id
        images = list(
            selectors.product_images_of_another_encoder(encoder_id=running).values_list(
                "pk", flat=True
            )
        )
        items = list(
            ClosetItem.objects.filter(status=ProcessingStatus.READY)
            .exclude(encoder=running)
            .values_list("pk", flat=True)
        )
        if not options["dry_run"]:
            catalog.product_images_reencode(image_ids=images)
            closet.closet_items_reencode(item_ids=items)
        verb = "would be queued" if options["dry_run"] else "queued"
        self.stdout.write(
            f"Running encoder {running}: {len(images)} product images and {len(items)} closet "
            f"items of another encoder {verb} for encoding."
        )
