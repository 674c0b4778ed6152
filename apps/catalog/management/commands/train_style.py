"""python manage.py train_style --out PATH: train the style head on labelled embeddings.

Sources (one): the curated catalog (default: crops of products with style tags, encoded by
the running encoder), ``--labels`` (a JSON/JSONL file or a folder of labelled images, see
the README, "Training and evaluation") or ``--synthetic N`` (garments drawn by
``ml.synthetic``, labelled with the styles they were drawn from). A validation split is
held out by group (product, image); the report gives per-style AP, mAP, top-1/top-3
accuracy and recall@3, beside the k-NN vote's on the same split.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config.taxonomy import styles
from ml.base import Encoder
from ml.evaluation import IMAGE_SUFFIXES, load_rgb
from ml.registry import get_registry
from ml.style import (
    LabelledEmbeddings,
    StyleMetrics,
    TrainConfig,
    knn_vote_scores,
    label_matrix,
    split_by_group,
    style_metrics,
    synthetic_style_set,
    train_style_head,
)
from ml.types import Box

MIN_ROWS = 10


def catalog_labelled(encoder: Encoder) -> LabelledEmbeddings:
    """Crops of products with style tags, encoded by ``encoder``; grouped by product."""
    from apps.catalog.models import ProcessingStatus, ProductCrop

    name, _, version = encoder.encoder_id.partition("@")
    rows = (
        ProductCrop.objects.filter(
            encoder=name,
            encoder_version=version,
            image__status=ProcessingStatus.READY,
            image__product__style_tags__isnull=False,
        )
        .values_list("pk", "embedding", "image__product_id", "image__product__style_tags__slug")
        .order_by("pk")
    )
    vectors: dict[int, bytes] = {}
    product: dict[int, int] = {}
    tags: dict[int, list[str]] = defaultdict(list)
    for pk, blob, product_id, tag in rows:
        vectors[pk] = bytes(blob)
        product[pk] = product_id
        tags[pk].append(tag)
    ids = sorted(vectors)
    names = styles()
    return LabelledEmbeddings(
        vectors=np.stack([np.frombuffer(vectors[i], dtype="<f4") for i in ids]).astype(np.float32)
        if ids
        else np.zeros((0, encoder.dim), dtype=np.float32),
        labels=label_matrix([tags[i] for i in ids], names),
        groups=tuple(f"product-{product[i]}" for i in ids),
        encoder_id=encoder.encoder_id,
    )


def read_label_file(path: Path) -> list[dict[str, Any]]:
    """The records of a labels file or folder (format in the README).

    A ``.json`` file holds a list of records (or ``{"items": [...]}``), a ``.jsonl`` file
    one record per line: ``{"image": "relative/or/absolute.jpg", "styles": ["street"],
    "box": [x1, y1, x2, y2] (optional), "group": "look-17" (optional)}``. A folder holds
    one sub-folder per style, named by the style, with its images.
    """
    if path.is_dir():
        records = []
        for folder in sorted(p for p in path.iterdir() if p.is_dir()):
            for image in sorted(folder.iterdir()):
                if image.suffix.lower() in IMAGE_SUFFIXES:
                    records.append({"image": str(image), "styles": [folder.name]})
        return records
    if not path.is_file():
        raise CommandError(f"--labels {path}: no such file or folder")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".jsonl":
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            data = json.loads(text)
            records = data["items"] if isinstance(data, dict) else data
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CommandError(f"--labels {path}: not a JSON list of records ({exc})") from exc
    base = path.parent
    for i, record in enumerate(records):
        if not isinstance(record, dict) or "image" not in record or "styles" not in record:
            raise CommandError(f"--labels {path}: record {i} needs 'image' and 'styles'")
        image = Path(record["image"])
        record["image"] = str(image if image.is_absolute() else base / image)
    return records


def files_labelled(
    records: list[dict[str, Any]], encoder: Encoder, *, batch_size: int = 32, stderr: Any = None
) -> LabelledEmbeddings:
    names = styles()
    try:
        labels = label_matrix([r["styles"] for r in records], names)
    except ValueError as exc:
        raise CommandError(f"--labels: {exc}") from exc
    chunks = []
    bar = tqdm(total=len(records), unit="image", desc="encode", file=stderr)
    try:
        for start in range(0, len(records), batch_size):
            images = []
            for record in records[start : start + batch_size]:
                try:
                    image = load_rgb(Path(record["image"]))
                except OSError as exc:
                    raise CommandError(f"{record['image']}: not a readable image ({exc})") from exc
                if record.get("box"):
                    box = Box.from_list(record["box"]).clip(image.width, image.height)
                    image = image.crop(box.as_int_tuple())
                images.append(image)
            chunks.append(encoder.encode_array(images))
            bar.update(len(images))
    finally:
        bar.close()
    return LabelledEmbeddings(
        vectors=np.concatenate(chunks) if chunks else np.zeros((0, encoder.dim), np.float32),
        labels=labels,
        groups=tuple(str(r.get("group") or r["image"]) for r in records),
        encoder_id=encoder.encoder_id,
    )


def metrics_table(names: tuple[str, ...], head: StyleMetrics, knn: StyleMetrics) -> str:
    lines = [f"{'style':<14} {'val+':>5} {'AP head':>8} {'AP k-NN':>8}"]
    for name in names:
        if name in head.ap:
            lines.append(
                f"{name:<14} {head.positives[name]:>5} {head.ap[name]:>8.3f} "
                f"{knn.ap.get(name, 0.0):>8.3f}"
            )
        else:
            lines.append(f"{name:<14} {0:>5} {'-':>8} {'-':>8}")
    lines.append("")
    lines.append(f"{'':<14} {'mAP':>8} {'top-1':>8} {'top-3':>8} {'recall@3':>9}")
    for label, m in (("trained head", head), ("k-NN vote", knn)):
        lines.append(
            f"{label:<14} {m.map:>8.3f} {m.top1:>8.3f} {m.top3:>8.3f} {m.recall_at_3:>9.3f}"
        )
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Train the style head (a multi-label classifier over the running encoder's "
        "embeddings) on the curated catalog, a labels file/folder or synthetic garments; "
        "hold out a validation split, report per-style AP, mAP and top-3, write the head."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", type=Path, required=True, help="Where to write the head.")
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--labels", type=Path, help="A JSON/JSONL labels file or a folder of style folders."
        )
        source.add_argument(
            "--synthetic", type=int, metavar="N", help="N garments drawn by ml.synthetic."
        )
        parser.add_argument("--val-fraction", type=float, default=0.2)
        parser.add_argument("--epochs", type=int, default=200)
        parser.add_argument("--hidden", type=int, default=256)
        parser.add_argument("--learning-rate", type=float, default=3e-3)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--knn-k", type=int, default=15, help="k of the k-NN vote it is compared with."
        )
        parser.add_argument("--metrics-json", type=Path, help="Also write the report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0.0 < options["val_fraction"] < 1.0:
            raise CommandError("--val-fraction must be between 0 and 1")
        names = styles()
        encoder = get_registry().encoder()
        err = self.stderr._out
        if options["synthetic"]:
            n = options["synthetic"]
            bar = tqdm(total=n, unit="garment", desc="render+encode", file=err)
            data = synthetic_style_set(
                n, encoder=encoder, styles=names, seed=options["seed"], progress=bar.update
            )
            bar.close()
            source = f"synthetic ({n} garments)"
        elif options["labels"]:
            data = files_labelled(read_label_file(options["labels"]), encoder, stderr=err)
            source = f"labels {options['labels']}"
        else:
            data = catalog_labelled(encoder)
            source = "the curated catalog"
        n = data.vectors.shape[0]
        if n < MIN_ROWS:
            raise CommandError(
                f"{n} labelled garments from {source} with {encoder.encoder_id} embeddings: "
                f"need at least {MIN_ROWS}. Tag more products (or re-encode them) first."
            )
        train, val = split_by_group(
            data.groups, val_fraction=options["val_fraction"], seed=options["seed"]
        )
        if len(val) == 0 or len(train) == 0:
            raise CommandError("too few groups for a validation split; add labelled garments")
        self.stdout.write(
            f"Training on {len(train)} garments, validating on {len(val)} ({source}, "
            f"{encoder.encoder_id})."
        )
        bar = tqdm(total=options["epochs"], unit="epoch", desc="train", file=err)

        def progress(epoch: int, loss: float) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4f}")

        config = TrainConfig(
            hidden=options["hidden"],
            epochs=options["epochs"],
            learning_rate=options["learning_rate"],
            seed=options["seed"],
        )
        try:
            head = train_style_head(
                data.vectors[train],
                data.labels[train],
                styles=names,
                encoder_id=encoder.encoder_id,
                config=config,
                progress=progress,
            )
        finally:
            bar.close()
        scores = head.predict_array(data.vectors[val])
        head_metrics = style_metrics(scores, data.labels[val], names)
        knn = knn_vote_scores(
            data.vectors[train], data.labels[train], data.vectors[val], options["knn_k"]
        )
        knn_metrics = style_metrics(knn, data.labels[val], names)
        report = {
            "source": source,
            "encoder": encoder.encoder_id,
            "train": len(train),
            "validation": len(val),
            "head": head_metrics.as_dict(),
            "knn_vote": {"k": options["knn_k"], **knn_metrics.as_dict()},
        }
        path = head.save(options["out"], metrics=report)
        self.stdout.write(metrics_table(names, head_metrics, knn_metrics))
        if options["metrics_json"]:
            options["metrics_json"].parent.mkdir(parents=True, exist_ok=True)
            options["metrics_json"].write_text(json.dumps(report, indent=2))
        self.stdout.write(
            f"Wrote the style head {head.source} to {path}. "
            f"Serve it: set ML_STYLE_HEAD={path.resolve()} (and restart the workers)."
        )
