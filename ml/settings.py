"""The ml library's settings: one frozen object read from ``ML_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: The garment-category taxonomy shipped with the project (read as a file: ml imports
#: nothing of the Django project).
DEFAULT_TAXONOMY_FILE = Path(__file__).resolve().parent.parent / "config/taxonomy/categories.json"


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


def _source(value: str | None) -> str | None:
    """A weight source: a local path or an ``s3://bucket/key`` URL (kept as text)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    return value if value.startswith("s3://") else str(Path(value).expanduser())


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    return float(env.get(name) or default)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(env.get(name) or default)


@dataclass(frozen=True)
class MLSettings:
    """Where the models come from and how they run.

    A weight source left empty selects the named default for that role (see the README:
    "Bringing real model weights"). Weight sources are local paths or ``s3://bucket/key``
    URLs, fetched once into ``model_cache_dir``.
    """

    person_weights: str | None = None
    garment_weights: str | None = None
    encoder: str = "descriptor"
    encoder_weights: str | None = None
    style_head: Path | None = None
    device: str = "auto"
    num_threads: int = 2
    runtime: str = "torch"
    precision: str = "fp32"
    model_cache_dir: Path = Path("var/models")
    # Detection.
    #: categories.json holding ``class_maps``; the map named below turns the garment
    #: model's class names into the four categories. A ``<weights>.classes.json`` beside
    #: the garment weights ({"class name": "category"}) wins over it.
    taxonomy_file: Path = DEFAULT_TAXONOMY_FILE
    garment_class_map: str = "deepfashion2"
    person_class: str = "person"
    detect_image_size: int = 640
    person_confidence: float = 0.40
    garment_confidence: float = 0.25
    detect_iou: float = 0.50
    max_people: int = 10
    # Embedding.
    #: PCA projection (.npz written by ml.resnet.Projection.save), fitted on the catalog.
    encoder_projection: Path | None = None
    encoder_batch_size: int = 16
    #: Images (a folder) that calibrate int8 quantisation; empty: generated images.
    calibration_dir: Path | None = None
    calibration_size: int = 64
    #: S3 endpoint for ``s3://`` weight sources (MinIO); empty: AWS.
    s3_endpoint_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MLSettings:
        env = os.environ if environ is None else environ
        return cls(
            person_weights=_source(env.get("ML_PERSON_WEIGHTS")),
            garment_weights=_source(env.get("ML_GARMENT_WEIGHTS")),
            encoder=env.get("ML_ENCODER") or "descriptor",
            encoder_weights=_source(env.get("ML_ENCODER_WEIGHTS")),
            style_head=_path(env.get("ML_STYLE_HEAD")),
            device=env.get("ML_DEVICE") or "auto",
            num_threads=_int(env, "ML_NUM_THREADS", 2),
            runtime=env.get("ML_RUNTIME") or "torch",
            precision=env.get("ML_PRECISION") or "fp32",
            model_cache_dir=Path(env.get("ML_MODEL_CACHE_DIR") or "var/models"),
            taxonomy_file=_path(env.get("ML_TAXONOMY_FILE")) or DEFAULT_TAXONOMY_FILE,
            garment_class_map=env.get("ML_GARMENT_CLASS_MAP") or "deepfashion2",
            person_class=env.get("ML_PERSON_CLASS") or "person",
            detect_image_size=_int(env, "ML_DETECT_IMAGE_SIZE", 640),
            person_confidence=_float(env, "ML_PERSON_CONFIDENCE", 0.40),
            garment_confidence=_float(env, "ML_GARMENT_CONFIDENCE", 0.25),
            detect_iou=_float(env, "ML_DETECT_IOU", 0.50),
            max_people=_int(env, "ML_MAX_PEOPLE", 10),
            encoder_projection=_path(env.get("ML_ENCODER_PROJECTION")),
            encoder_batch_size=_int(env, "ML_ENCODER_BATCH_SIZE", 16),
            calibration_dir=_path(env.get("ML_CALIBRATION_DIR")),
            calibration_size=_int(env, "ML_CALIBRATION_SIZE", 64),
            s3_endpoint_url=env.get("ML_S3_ENDPOINT_URL") or env.get("AWS_S3_ENDPOINT_URL") or None,
        )

    def validate(self) -> list[str]:
        """Problems with the values themselves (not the files), each naming its variable."""
        problems = []
        if self.encoder not in ("descriptor", "resnet50"):
            problems.append(f"ML_ENCODER={self.encoder}: expected descriptor or resnet50")
        if self.runtime not in ("torch", "onnx"):
            problems.append(f"ML_RUNTIME={self.runtime}: expected torch or onnx")
        if self.precision not in ("fp32", "int8"):
            problems.append(f"ML_PRECISION={self.precision}: expected fp32 or int8")
        if self.precision == "int8" and self.runtime != "onnx":
            problems.append("ML_PRECISION=int8 needs ML_RUNTIME=onnx")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            problems.append(f"ML_DEVICE={self.device}: expected auto, cpu or cuda")
        if self.encoder == "resnet50" and not self.encoder_weights:
            problems.append("ML_ENCODER=resnet50 needs ML_ENCODER_WEIGHTS (a state dict)")
        if self.num_threads < 1:
            problems.append(f"ML_NUM_THREADS={self.num_threads}: must be at least 1")
        return problems
