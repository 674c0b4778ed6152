"""Fine-tuning a YOLO garment model on a YOLO-format dataset, offline.

Ultralytics reaches for the network in three places during training; each is closed here:
the AMP check downloads a small model on CUDA (``amp`` is off unless asked for, and then
only where that model is already on disk), dataset checks download the Arial fonts
(:func:`provide_fonts` puts a local font under those names first) and a dataset yaml with
a missing folder triggers its ``download`` script (:func:`resolve_dataset` checks the
folders first and writes a copy without it). ``YOLO_OFFLINE=1`` turns off the hub,
telemetry and version checks, and a ``.pt`` start point must exist on disk (a bare name
like ``yolov8n.pt`` would be fetched).

What leaves: a :class:`TrainedDetector` with the weights path, the class → category map
(written beside the weights as ``<weights>.classes.json``, the file
:func:`ml.detection.load_class_map` reads first) and the validation metrics.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ml.detection import normalise_class_name
from ml.settings import MLSettings
from ml.types import CATEGORIES, GarmentCategory

logger = logging.getLogger(__name__)

PERSON = "person"


class TrainingError(RuntimeError):
    """The dataset or the start point cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class TrainedDetector:
    weights: Path
    class_map_path: Path
    class_map: dict[str, GarmentCategory]
    unmapped: tuple[str, ...]
    metrics: dict[str, float]
    epochs: int
    device: str


def configure_offline(settings: MLSettings) -> Path:
    """Environment for an ultralytics that never goes online; its config folder.

    Must run before ``ultralytics`` is imported (it reads these at import).
    """
    os.environ["YOLO_OFFLINE"] = "1"
    config_dir = Path(
        os.environ.setdefault("YOLO_CONFIG_DIR", str(settings.model_cache_dir / "ultralytics"))
    )
    os.environ.setdefault("YOLO_VERBOSE", "False")
    return config_dir


def provide_fonts() -> None:
    """Put matplotlib's bundled DejaVu Sans where ultralytics looks for Arial (its
    ``check_font`` would download Arial otherwise; the font only draws plot labels)."""
    import matplotlib
    from ultralytics.utils import USER_CONFIG_DIR

    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    folder = Path(USER_CONFIG_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        target = folder / name
        if not target.exists():
            shutil.copyfile(source, target)


def resolve_dataset(data_yaml: Path, out_dir: Path) -> tuple[Path, list[str]]:
    """A copy of ``data_yaml`` with absolute paths and no ``download`` key; the class names.

    A relative ``path`` is taken relative to the yaml's own folder (ultralytics would take
    it relative to its global datasets folder).

    Raises:
        TrainingError: unreadable yaml, no names, or a train/val folder that is missing.
    """
    try:
        data = yaml.safe_load(data_yaml.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TrainingError(f"{data_yaml}: not a readable dataset yaml ({exc})") from exc
    if not isinstance(data, dict):
        raise TrainingError(f"{data_yaml}: not a dataset yaml (expected a mapping)")
    root = Path(str(data.get("path") or "."))
    if not root.is_absolute():
        root = (data_yaml.parent / root).resolve()
    raw_names = data.get("names")
    if isinstance(raw_names, dict):
        names = [str(raw_names[k]) for k in sorted(raw_names, key=int)]
    elif isinstance(raw_names, list):
        names = [str(n) for n in raw_names]
    else:
        raise TrainingError(f"{data_yaml}: 'names' must list the classes")
    for split in ("train", "val"):
        if not data.get(split):
            raise TrainingError(f"{data_yaml}: no '{split}' folder given")
        folder = root / str(data[split])
        if not folder.exists():
            raise TrainingError(
                f"{data_yaml}: the {split} images {folder} do not exist; put a YOLO-format "
                "dataset there (images/<split>/*.jpg with labels/<split>/*.txt) or make one "
                "with --synthetic N"
            )
    resolved = {k: v for k, v in data.items() if k != "download"}
    resolved["path"] = str(root)
    resolved["names"] = dict(enumerate(names))
    resolved.pop("nc", None)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "data.yaml"
    target.write_text(yaml.safe_dump(resolved, sort_keys=False), encoding="utf-8")
    return target, names


def class_map_for(
    names: list[str], settings: MLSettings
) -> tuple[dict[str, GarmentCategory], tuple[str, ...]]:
    """Each class name → its category: a category name maps to itself, other names through
    the taxonomy's class maps (``ML_GARMENT_CLASS_MAP`` first). ``person`` and names no map
    knows are left out (returned second)."""
    maps: Mapping[str, Mapping[str, str]] = {}
    try:
        maps = json.loads(settings.taxonomy_file.read_text())["class_maps"]
    except (OSError, json.JSONDecodeError, KeyError):
        logger.warning("ml.class_maps_unreadable file=%s", settings.taxonomy_file)
    ordered = [maps[settings.garment_class_map]] if settings.garment_class_map in maps else []
    ordered += [m for key, m in maps.items() if key != settings.garment_class_map]
    known: dict[str, str] = {}
    for mapping in reversed(ordered):  # the configured map wins
        known.update({normalise_class_name(k): v for k, v in mapping.items()})
    result: dict[str, GarmentCategory] = {}
    unmapped: list[str] = []
    for name in names:
        key = normalise_class_name(name)
        category = key if key in CATEGORIES else known.get(key)
        if category in CATEGORIES:
            result[name] = category
        elif key != PERSON:
            unmapped.append(name)
    return result, tuple(unmapped)


def check_start_point(model: str, settings: MLSettings) -> str:
    """The model to start from as ultralytics takes it: a model yaml (ultralytics' own, like
    ``yolov8n.yaml``, or a path) or a local ``.pt`` / ``s3://`` weight file.

    Raises:
        TrainingError: a ``.pt`` that is not on disk (ultralytics would download it).
    """
    if model.endswith((".yaml", ".yml")):
        return model
    from ml.weights import resolve_weights

    try:
        path = resolve_weights(
            model,
            variable="--model",
            cache_dir=settings.model_cache_dir,
            s3_endpoint_url=settings.s3_endpoint_url,
        )
    except Exception as exc:
        raise TrainingError(
            f"--model {model}: not found on disk ({exc}); give a local .pt or a model yaml "
            "(e.g. yolov8n.yaml); nothing is downloaded"
        ) from exc
    if path.suffix.lower() != ".pt":
        raise TrainingError(f"--model {model}: expected a .pt weight file or a model yaml")
    return str(path.resolve())


def train_yolo(
    *,
    data_yaml: Path,
    model: str,
    out: Path,
    settings: MLSettings,
    epochs: int,
    image_size: int = 640,
    batch: int = 16,
    device: str = "auto",
    workers: int = 0,
    amp: bool = False,
    seed: int = 0,
    run_dir: Path | None = None,
    on_epoch: Callable[[int, Mapping[str, float]], None] | None = None,
) -> TrainedDetector:
    """Fine-tune ``model`` on ``data_yaml``; the best weights copied to ``out`` with the
    class map beside them.

    ``device``: ``auto`` (a GPU where there is one), ``cpu``, ``cuda`` or ``cuda:N``.
    ``amp``: mixed precision on a GPU; its check needs ultralytics' small check model on
    disk (it is never downloaded here: without it the check fails closed and AMP is off).
    """
    configure_offline(settings)
    provide_fonts()
    start = check_start_point(model, settings)
    run_dir = run_dir or out.parent / f"{out.stem}-run"
    resolved_yaml, names = resolve_dataset(data_yaml, run_dir)
    class_map, unmapped = class_map_for(names, settings)
    if not class_map:
        raise TrainingError(
            f"{data_yaml}: none of its classes ({', '.join(names)}) maps onto "
            f"{', '.join(CATEGORIES)}; name them so or add a class map to {settings.taxonomy_file}"
        )
    from dataclasses import replace

    from ml.device import torch_device

    chosen = torch_device(replace(settings, device=device))
    if chosen == "cpu":
        amp = False  # AMP is a GPU feature; ultralytics' check would only waste time
    if amp:
        from ultralytics.utils import WEIGHTS_DIR

        # ultralytics' check_amp runs this model (this version's name), fetching it if absent.
        if not (WEIGHTS_DIR / "yolo26n.pt").is_file():
            logger.warning("ml.amp_off reason=check_model_missing dir=%s", WEIGHTS_DIR)
            amp = False
    from ultralytics import YOLO  # type: ignore[attr-defined]

    yolo: Any = YOLO(start)

    def epoch_end(trainer: Any) -> None:
        if on_epoch is not None:
            metrics = {str(k): float(v) for k, v in (trainer.metrics or {}).items()}
            on_epoch(int(trainer.epoch) + 1, metrics)

    yolo.add_callback("on_fit_epoch_end", epoch_end)
    yolo.train(
        data=str(resolved_yaml),
        epochs=epochs,
        imgsz=image_size,
        batch=batch,
        device=chosen if chosen != "cuda" else 0,
        workers=workers,
        amp=amp,
        plots=False,
        seed=seed,
        deterministic=False,
        project=str(run_dir),
        name="train",
        exist_ok=True,
        verbose=False,
        val=True,
    )
    trainer = yolo.trainer
    best = Path(trainer.best) if Path(trainer.best).is_file() else Path(trainer.last)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(best, out)
    class_map_path = out.with_name(out.name + ".classes.json")
    class_map_path.write_text(json.dumps(class_map, indent=2) + "\n", encoding="utf-8")
    metrics = {str(k): float(v) for k, v in (trainer.metrics or {}).items()}
    logger.info(
        "ml.detector_trained weights=%s epochs=%d device=%s map50=%s",
        out,
        epochs,
        chosen,
        metrics.get("metrics/mAP50(B)"),
    )
    return TrainedDetector(
        weights=out,
        class_map_path=class_map_path,
        class_map=class_map,
        unmapped=unmapped,
        metrics=metrics,
        epochs=epochs,
        device=chosen,
    )
