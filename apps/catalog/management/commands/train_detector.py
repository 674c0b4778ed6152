"""python manage.py train_detector: fine-tune the YOLO garment model (ultralytics), offline.

Trains on a YOLO-format dataset (``config/datasets/garments.yaml`` by default, or one
rendered by ``ml.synthetic`` with ``--synthetic N``) from ``--model`` (local weights or a
model yaml; default ``ML_GARMENT_WEIGHTS`` when set, else ``yolov8n.yaml``), writes the
best weights and ``<weights>.classes.json`` beside them, then loads them the way the
worker does (``ML_GARMENT_WEIGHTS``) to prove they serve.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ml.settings import MLSettings
from ml.yolo_training import TrainingError, resolve_dataset, train_yolo

DEFAULT_DATA = Path(django_settings.BASE_DIR) / "config" / "datasets" / "garments.yaml"


class Command(BaseCommand):
    help = (
        "Fine-tune a YOLO garment detector on a YOLO-format dataset (CPU here, a GPU where "
        "there is one); write the weights and their class→category map. Downloads nothing."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Dataset yaml.")
        parser.add_argument(
            "--model",
            help="Start point: a local .pt (or s3://) or a model yaml such as yolov8n.yaml "
            "(default: ML_GARMENT_WEIGHTS, else yolov8n.yaml).",
        )
        parser.add_argument(
            "--out", type=Path, default=Path("var/models/garments.pt"), help="Weights to write."
        )
        parser.add_argument("--epochs", type=int, default=50)
        parser.add_argument("--imgsz", type=int, default=640)
        parser.add_argument("--batch", type=int, default=16)
        parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N.")
        parser.add_argument("--workers", type=int, default=0, help="Dataloader processes.")
        parser.add_argument("--amp", action="store_true", help="Mixed precision on a GPU.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--synthetic",
            type=int,
            metavar="N",
            help="First render N training (and N/4 validation) scenes with ml.synthetic into "
            "the dataset's folder.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ml_settings = MLSettings.from_env()
        data_yaml: Path = options["data"]
        out: Path = options["out"]
        if options["synthetic"]:
            data_yaml = self._render(data_yaml, options["synthetic"], options["seed"], out)
        model = options["model"] or ml_settings.garment_weights or "yolov8n.yaml"
        bar = tqdm(total=options["epochs"], unit="epoch", desc="train", file=self.stderr._out)

        def on_epoch(epoch: int, metrics: Any) -> None:
            bar.update(max(0, min(epoch, bar.total) - bar.n))  # the final validation repeats
            if "metrics/mAP50(B)" in metrics:
                bar.set_postfix(mAP50=f"{metrics['metrics/mAP50(B)']:.3f}")

        try:
            trained = train_yolo(
                data_yaml=data_yaml,
                model=model,
                out=out,
                settings=ml_settings,
                epochs=options["epochs"],
                image_size=options["imgsz"],
                batch=options["batch"],
                device=options["device"],
                workers=options["workers"],
                amp=options["amp"],
                seed=options["seed"],
                on_epoch=on_epoch,
            )
        except TrainingError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        from ml.detection import YoloDetector

        detector = YoloDetector(
            dataclasses.replace(
                ml_settings, garment_weights=str(trained.weights), person_weights=None
            )
        )
        detector.load()
        metrics = trained.metrics
        self.stdout.write(
            f"Trained {trained.epochs} epoch(s) on {trained.device} from {model}: "
            f"mAP50 {metrics.get('metrics/mAP50(B)', 0.0):.3f}, "
            f"mAP50-95 {metrics.get('metrics/mAP50-95(B)', 0.0):.3f}, "
            f"precision {metrics.get('metrics/precision(B)', 0.0):.3f}, "
            f"recall {metrics.get('metrics/recall(B)', 0.0):.3f}."
        )
        mapping = ", ".join(f"{k}→{v}" for k, v in trained.class_map.items())
        self.stdout.write(
            f"Classes: {mapping}"
            + (
                f" (not garments of the four: {', '.join(trained.unmapped)})"
                if trained.unmapped
                else ""
            )
        )
        self.stdout.write(
            f"Wrote {trained.weights} and {trained.class_map_path}; loaded as {detector.name} "
            f"{detector.version}. Serve it: set ML_GARMENT_WEIGHTS={trained.weights.resolve()}."
        )

    def _render(self, data_yaml: Path, count: int, seed: int, out: Path) -> Path:
        """Render a synthetic dataset where ``data_yaml`` points (its own yaml is written)."""
        from ml.synthetic import write_yolo_dataset

        root = Path("var/datasets/garments")
        if data_yaml.is_file():
            import yaml

            declared = (yaml.safe_load(data_yaml.read_text()) or {}).get("path")
            if declared:
                root = Path(declared)
                if not root.is_absolute():
                    root = (data_yaml.parent / root).resolve()
        n_val = max(2, count // 4)
        self.stdout.write(f"Rendering {count}+{n_val} synthetic scenes into {root} ...")
        dataset = write_yolo_dataset(root, n_train=count, n_val=n_val, seed=seed)
        try:
            resolve_dataset(dataset.data_yaml, out.parent / f"{out.stem}-run")
        except TrainingError as exc:
            raise CommandError(str(exc)) from exc
        return dataset.data_yaml
