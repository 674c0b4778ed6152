"""Detection: the full-image default and the two-stage YOLO detector (ultralytics).

Two stages, as in the TV home-shopping design this comes from: a person model (COCO
``person``) finds people, then a garment model finds garments inside each person's crop;
garment boxes are mapped back to image pixels. A photo with no person (a product shot, a
closet photo on a bed) runs the garment model on the whole image. A box sent by the client
skips detection for that region.

Nothing here downloads: ultralytics would fetch a weight name it cannot find on disk
(``yolov8s.pt``), so every path is checked before ``YOLO(path)`` and ultralytics runs with
``YOLO_OFFLINE=1`` (no online checks, no telemetry).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from PIL import Image

from ml.base import Detector, ModelLoadError
from ml.device import torch_device
from ml.settings import MLSettings
from ml.types import CATEGORIES, Box, Detection, GarmentCategory
from ml.weights import file_digest, resolve_weights

logger = logging.getLogger(__name__)


def as_category(value: str | None) -> GarmentCategory | None:
    """A client's category string as one of the four, ``None`` for none.

    Raises:
        ValueError: a category that is not one of the four.
    """
    if value is None or value == "":
        return None
    if value not in CATEGORIES:
        raise ValueError(f"unknown category {value!r}; expected one of {', '.join(CATEGORIES)}")
    return value


class FullImageDetector(Detector):
    """The named default with no weights: the whole image (or the client's box) is the one
    garment, with the category the client gave (or ``None``: the style/category step
    infers it). It never guesses a box."""

    name = "full-image"
    version = "1"
    is_default = True

    def _load(self) -> None:
        pass

    def _detect(
        self, image: Image.Image, *, box: Box | None, category: str | None
    ) -> list[Detection]:
        region = _client_region(image, box)
        return [Detection(region, category or "garment", as_category(category), 1.0)]


def _client_region(image: Image.Image, box: Box | None) -> Box:
    whole = Box(0.0, 0.0, float(image.width), float(image.height))
    if box is None:
        return whole
    clipped = box.clip(image.width, image.height)
    if clipped.width < 1 or clipped.height < 1:
        raise ValueError(
            f"the box {box.as_list()} lies outside the {image.width}x{image.height} image"
        )
    return clipped


# --- class names → the four categories --------------------------------------------------


def normalise_class_name(name: str) -> str:
    """``Short sleeve-top`` → ``short_sleeve_top``: how model names and map keys compare."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def load_class_map(
    settings: MLSettings, weights: Path | None
) -> tuple[dict[str, GarmentCategory], str]:
    """Garment class name (normalised) → category, and where the map came from.

    A ``<weights>.classes.json`` beside the garment weights wins; otherwise the map named
    ``ML_GARMENT_CLASS_MAP`` in ``ML_TAXONOMY_FILE``'s ``class_maps``.
    """
    sidecar = weights.with_name(weights.name + ".classes.json") if weights else None
    raw: Mapping[str, Any]
    if sidecar is not None and sidecar.is_file():
        try:
            raw = json.loads(sidecar.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelLoadError(f"{sidecar}: not a readable JSON class map ({exc})") from exc
        source = str(sidecar)
    else:
        try:
            maps = json.loads(settings.taxonomy_file.read_text())["class_maps"]
        except (OSError, json.JSONDecodeError, KeyError) as exc:
            raise ModelLoadError(
                f"ML_TAXONOMY_FILE={settings.taxonomy_file}: no readable class_maps ({exc})"
            ) from exc
        if settings.garment_class_map not in maps:
            raise ModelLoadError(
                f"ML_GARMENT_CLASS_MAP={settings.garment_class_map}: not in "
                f"{settings.taxonomy_file} (has {', '.join(sorted(maps))})"
            )
        raw = maps[settings.garment_class_map]
        source = f"{settings.taxonomy_file}#{settings.garment_class_map}"
    mapping: dict[str, GarmentCategory] = {}
    for name, category in raw.items():
        if category not in CATEGORIES:
            raise ModelLoadError(f"{source}: {name!r} maps to unknown category {category!r}")
        mapping[normalise_class_name(str(name))] = cast(GarmentCategory, category)
    return mapping, source


# --- the YOLO detector ------------------------------------------------------------------


@dataclass(frozen=True)
class RawDetection:
    """One box as a YOLO model gave it, in the pixels of the image it was run on."""

    box: Box
    score: float
    class_id: int


#: people smaller than this (pixels, either side) are ignored
MIN_PERSON_SIDE = 16


def to_image_coordinates(box: Box, region: Box, image_size: tuple[int, int]) -> Box:
    """A box found inside the crop ``region`` → the full image's pixels (clipped)."""
    return box.shift(region.x1, region.y1).clip(*image_size)


def person_region(box: Box, image_size: tuple[int, int], margin: float = 0.05) -> Box:
    """A person's box grown by ``margin`` of its size each side (sleeves and hems reach
    past it), on whole pixels, clipped to the image."""
    dx, dy = box.width * margin, box.height * margin
    grown = Box(box.x1 - dx, box.y1 - dy, box.x2 + dx, box.y2 + dy).clip(*image_size)
    x1, y1, x2, y2 = int(grown.x1), int(grown.y1), round(grown.x2), round(grown.y2)
    return Box(float(x1), float(y1), float(x2), float(y2))


def box_iou(a: Box, b: Box) -> float:
    inter = Box(max(a.x1, b.x1), max(a.y1, b.y1), min(a.x2, b.x2), min(a.y2, b.y2)).area
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def merge_duplicates(detections: list[Detection], iou: float = 0.7) -> list[Detection]:
    """Garments seen twice (inside two overlapping people's crops): keep the surer one."""
    kept: list[Detection] = []
    for det in sorted(detections, key=lambda d: -d.score):
        if all(d.label != det.label or box_iou(d.box, det.box) < iou for d in kept):
            kept.append(det)
    return kept


def _configure_ultralytics(settings: MLSettings) -> None:
    # Before ultralytics is imported: no online checks, telemetry or hub calls, and its
    # settings file kept with the model cache rather than in a home directory.
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ.setdefault("YOLO_CONFIG_DIR", str(settings.model_cache_dir / "ultralytics"))
    os.environ.setdefault("YOLO_VERBOSE", "False")


def load_yolo(
    source: str, *, variable: str, settings: MLSettings, task: str = "detect"
) -> tuple[Any, Path]:
    """``YOLO(path)`` for a configured source, never a download; the model and its file.

    Raises:
        ModelLoadError: missing, unreadable or not a YOLO detection model; names the variable.
    """
    path = resolve_weights(
        source,
        variable=variable,
        cache_dir=settings.model_cache_dir,
        s3_endpoint_url=settings.s3_endpoint_url,
    )
    if path.suffix.lower() not in (".pt", ".onnx"):
        raise ModelLoadError(f"{variable}={source}: expected a .pt or .onnx YOLO file")
    _configure_ultralytics(settings)
    from ultralytics import YOLO  # type: ignore[attr-defined]

    run_path = path
    if path.suffix.lower() == ".pt" and settings.runtime == "onnx":
        run_path = _onnx_beside_cache(path, settings=settings, variable=variable, source=source)
    try:
        # An absolute path that exists: ultralytics finds it on disk and fetches nothing.
        model = YOLO(str(run_path.resolve()), task=task)
        names = model.names
    except Exception as exc:  # torch.load / onnx raise many types for a bad file
        raise ModelLoadError(f"{variable}={source}: not a loadable YOLO model ({exc})") from exc
    if model.task != task or not names:
        raise ModelLoadError(f"{variable}={source}: a {model.task} model, expected {task}")
    return model, path


def _onnx_beside_cache(path: Path, *, settings: MLSettings, variable: str, source: str) -> Path:
    """The ONNX export of a .pt, made once into the model cache (the weights' own folder
    may be read-only)."""
    folder = settings.model_cache_dir / "yolo"
    stem = f"{path.stem}-{file_digest(path)}-{settings.detect_image_size}"
    onnx_path = folder / f"{stem}.onnx"
    if onnx_path.is_file():
        return onnx_path
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"{stem}.pt"
    shutil.copyfile(path, copy)
    from ultralytics import YOLO  # type: ignore[attr-defined]

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and legacy-exporter notices
            exported = YOLO(str(copy.resolve())).export(
                format="onnx", imgsz=settings.detect_image_size, simplify=False, dynamic=False
            )
    except Exception as exc:
        raise ModelLoadError(f"{variable}={source}: ONNX export failed ({exc})") from exc
    finally:
        copy.unlink(missing_ok=True)
    logger.info("ml.yolo_onnx_exported source=%s onnx=%s", source, exported)
    return Path(exported)


class YoloDetector(Detector):
    """People (optional person model), then garments inside each person; see the module."""

    name = "yolo"

    def __init__(self, settings: MLSettings) -> None:
        super().__init__()
        if not settings.garment_weights:
            raise ValueError("YoloDetector needs ML_GARMENT_WEIGHTS")
        self.settings = settings
        self.two_stage = bool(settings.person_weights)
        self.name = "yolo-two-stage" if self.two_stage else "yolo"
        self.version = "unloaded"
        self._person: Any = None
        self._garment: Any = None
        self._person_ids: set[int] = set()
        self._class_names: dict[int, str] = {}
        self._categories: dict[int, GarmentCategory | None] = {}
        self._device = "cpu"
        # ultralytics' predictor keeps per-call state: one call at a time per model.
        self._predict_lock = threading.Lock()

    def _load(self) -> None:
        settings = self.settings
        self._device = torch_device(settings)
        assert settings.garment_weights is not None
        self._garment, garment_path = load_yolo(
            settings.garment_weights, variable="ML_GARMENT_WEIGHTS", settings=settings
        )
        mapping, map_source = load_class_map(settings, garment_path)
        self._class_names = {int(k): str(v) for k, v in self._garment.names.items()}
        self._categories = {
            k: mapping.get(normalise_class_name(v)) for k, v in self._class_names.items()
        }
        unmapped = sorted(v for k, v in self._class_names.items() if self._categories[k] is None)
        if unmapped:
            logger.warning(
                "ml.detector_unmapped_classes classes=%s map=%s", ",".join(unmapped), map_source
            )
        parts = [file_digest(garment_path, 8)]
        if self.two_stage:
            assert settings.person_weights is not None
            self._person, person_path = load_yolo(
                settings.person_weights, variable="ML_PERSON_WEIGHTS", settings=settings
            )
            names = {int(k): str(v) for k, v in self._person.names.items()}
            self._person_ids = {k for k, v in names.items() if v == settings.person_class}
            if not self._person_ids:
                raise ModelLoadError(
                    f"ML_PERSON_WEIGHTS={settings.person_weights}: no class named "
                    f"{settings.person_class!r} (ML_PERSON_CLASS); it has "
                    f"{', '.join(list(names.values())[:10])}"
                )
            parts.append(file_digest(person_path, 8))
        self.version = "-".join(parts) + ("-onnx" if settings.runtime == "onnx" else "")
        logger.info(
            "ml.detector_ready name=%s version=%s device=%s runtime=%s class_map=%s",
            self.name,
            self.version,
            self._device,
            settings.runtime,
            map_source,
        )

    # Ultralytics inference, isolated so tests can stand in for a trained model's output.
    def _predict(self, model: Any, image: Image.Image, *, confidence: float) -> list[RawDetection]:
        with self._predict_lock:
            results = model.predict(
                image,
                imgsz=self.settings.detect_image_size,
                conf=confidence,
                iou=self.settings.detect_iou,
                device=self._device,
                verbose=False,
            )
        boxes = results[0].boxes
        if boxes is None or len(boxes) == 0:
            return []
        xyxy = boxes.xyxy.cpu().numpy().tolist()
        scores = boxes.conf.cpu().numpy().tolist()
        classes = boxes.cls.cpu().numpy().tolist()
        return [
            RawDetection(Box.from_list(b), float(s), int(c))
            for b, s, c in zip(xyxy, scores, classes, strict=True)
        ]

    def _garments_in(
        self, image: Image.Image, region: Box, person_index: int | None
    ) -> list[Detection]:
        size = image.size
        if min(region.width, region.height) < 2:
            return []
        crop = image if region.area >= size[0] * size[1] else image.crop(region.as_int_tuple())
        found = []
        for raw in self._predict(self._garment, crop, confidence=self.settings.garment_confidence):
            box = to_image_coordinates(raw.box, region, size)
            if box.area <= 0:
                continue
            found.append(
                Detection(
                    box=box,
                    label=self._class_names.get(raw.class_id, str(raw.class_id)),
                    category=self._categories.get(raw.class_id),
                    score=raw.score,
                    kind="garment",
                    person_index=person_index,
                )
            )
        return found

    def _detect(
        self, image: Image.Image, *, box: Box | None, category: str | None
    ) -> list[Detection]:
        if box is not None:  # the person tapped a region: no detection there
            region = _client_region(image, box)
            return [Detection(region, category or "garment", as_category(category), 1.0)]
        size = image.size
        whole = Box(0.0, 0.0, float(size[0]), float(size[1]))
        people: list[Detection] = []
        if self._person is not None:
            raw_people = [
                r
                for r in self._predict(
                    self._person, image, confidence=self.settings.person_confidence
                )
                if r.class_id in self._person_ids
            ]
            raw_people.sort(key=lambda r: -r.score)
            for raw in raw_people[: self.settings.max_people]:
                person_box = raw.box.clip(*size)
                # A "person" a few pixels across holds no garment a model can see.
                if min(person_box.width, person_box.height) >= MIN_PERSON_SIDE:
                    people.append(Detection(person_box, "person", None, raw.score, "person"))
        if not people:
            garments = self._garments_in(image, whole, None)
        else:
            garments = []
            for index, person in enumerate(people):
                garments.extend(self._garments_in(image, person_region(person.box, size), index))
            garments = merge_duplicates(garments)
        logger.debug(
            "ml.detected detector=%s people=%d garments=%d", self.name, len(people), len(garments)
        )
        return people + garments
