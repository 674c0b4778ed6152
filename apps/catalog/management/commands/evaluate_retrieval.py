"""python manage.py evaluate_retrieval --queries FILE.jsonl: how well the catalog is found.

Each query photo goes through the serving path (the configured detector and encoder, the
client's box and category when the query gives them); its garment is searched in the
catalog's ready crops exactly and through the live indexes. Reports instance top-1/top-5,
category precision@k, the index's recall against exact search and per-query latency;
prints a table and writes JSON. The query-set format is in the README ("Training and
evaluation").
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.catalog.models import ProcessingStatus, ProductCrop
from apps.recommendations.retrieval import CATEGORIES, catalog_neighbours
from ml.analysis import analyse_photo
from ml.evaluation import load_rgb, nearest_neighbours
from ml.registry import get_registry
from ml.retrieval_evaluation import evaluate_query_set, format_evaluation
from ml.types import Box


def read_queries(path: Path) -> list[dict[str, Any]]:
    """The JSONL query set: one ``{"image", "product"?, "category"?, "box"?}`` per line."""
    if not path.is_file():
        raise CommandError(f"--queries {path}: no such file")
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}:{number}: not JSON ({exc})") from exc
        if not isinstance(record, dict) or "image" not in record:
            raise CommandError(f"{path}:{number}: a query needs 'image'")
        if not record.get("product") and not record.get("category"):
            raise CommandError(f"{path}:{number}: a query needs 'product' or 'category' to judge")
        if record.get("category") and record["category"] not in CATEGORIES:
            raise CommandError(
                f"{path}:{number}: category {record['category']!r} is not one of "
                f"{', '.join(CATEGORIES)}"
            )
        image = Path(record["image"])
        record["image"] = image if image.is_absolute() else path.parent / image
        queries.append(record)
    if not queries:
        raise CommandError(f"--queries {path}: no queries")
    return queries


class Command(BaseCommand):
    help = (
        "Evaluate retrieval on a labelled query set (JSONL) against the catalog: instance "
        "top-1/top-5, category precision@k, index recall vs exact search, latency."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--queries", type=Path, required=True, help="The JSONL query set.")
        parser.add_argument("--k", type=int, default=10)
        parser.add_argument(
            "--out", type=Path, default=Path("var/eval/retrieval.json"), help="JSON report."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        k = max(1, options["k"])
        queries = read_queries(options["queries"])
        registry = get_registry()
        encoder = registry.encoder()
        detector = registry.detector()
        name, _, version = encoder.encoder_id.partition("@")
        rows = list(
            ProductCrop.objects.filter(
                encoder=name,
                encoder_version=version,
                image__status=ProcessingStatus.READY,
                image__product__is_active=True,
            )
            .order_by("pk")
            .values_list("pk", "embedding", "category", "image__product__external_id")
        )
        if not rows:
            raise CommandError(
                f"No ready catalog crop encoded with {encoder.encoder_id}: load or re-encode "
                "the catalog first."
            )
        row_of = {pk: i for i, (pk, _, _, _) in enumerate(rows)}
        gallery = np.stack([np.frombuffer(bytes(blob), dtype="<f4") for _, blob, _, _ in rows])
        vectors, products, categories, index_results = [], [], [], []
        latency: dict[str, list[float]] = {"encode": [], "exact": [], "index": []}
        skipped = 0
        for query in tqdm(queries, unit="query", desc="evaluate", file=self.stderr._out):
            try:
                image = load_rgb(Path(query["image"]))
            except OSError as exc:
                raise CommandError(f"{query['image']}: not a readable image ({exc})") from exc
            box = Box.from_list(query["box"]) if query.get("box") else None
            started = time.perf_counter()
            found = analyse_photo(
                image, detector=detector, encoder=encoder, box=box, category=query.get("category")
            ).garments
            latency["encode"].append(time.perf_counter() - started)
            if not found:
                skipped += 1
                continue
            vector = found[0].embedding.to_numpy()
            started = time.perf_counter()
            nearest_neighbours(vector[None, :], gallery, k)
            latency["exact"].append(time.perf_counter() - started)
            started = time.perf_counter()
            hits = catalog_neighbours(
                vector=vector, encoder_id=encoder.encoder_id, categories=CATEGORIES, k=k
            )
            latency["index"].append(time.perf_counter() - started)
            vectors.append(vector)
            products.append(query.get("product") or None)
            categories.append(query.get("category") or None)
            index_results.append([row_of[h.id] for h in hits if h.id in row_of])
        no_index = not any(index_results)
        report = evaluate_query_set(
            np.stack(vectors) if vectors else np.zeros((0, gallery.shape[1]), np.float32),
            gallery,
            gallery_products=[p for _, _, _, p in rows],
            gallery_categories=[c for _, _, c, _ in rows],
            query_products=products,
            query_categories=categories,
            k=k,
            index_results=None if no_index else index_results,
            latency_seconds={k_: v for k_, v in latency.items() if v},
        )
        self.stdout.write(format_evaluation(report))
        if no_index:
            self.stdout.write("No index returned anything: run index_rebuild to measure recall.")
        if skipped:
            self.stdout.write(f"{skipped} queries had no garment detected and were left out.")
        out: Path = options["out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {"encoder": encoder.encoder_id, "detector": detector.name, "skipped": skipped}
                | report.as_dict(),
                indent=2,
            )
        )
        self.stdout.write(f"Wrote {out}.")
