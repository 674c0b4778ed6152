"""The models a process serves, built once from :class:`~ml.settings.MLSettings`.

``ML_ENCODER`` names an encoder class (``descriptor``, the default with no weights, or
``resnet50``); the detector is the two-stage YOLO detector when ``ML_GARMENT_WEIGHTS`` is
set, else the named full-image default. Each model is built once per process and loaded
lazily (after a worker forks, never at import); :func:`get_registry` is the process-wide
one the worker uses.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import threading
from dataclasses import asdict, dataclass
from typing import Any

from ml.base import Detector, Encoder, Model, ModelLoadError
from ml.settings import MLSettings
from ml.style import StyleHead

logger = logging.getLogger(__name__)

#: ``ML_ENCODER`` value → "module:Class", imported only when chosen.
ENCODERS: dict[str, str] = {
    "descriptor": "ml.descriptor:DescriptorEncoder",
    "resnet50": "ml.resnet:ResNetEncoder",
}


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


@dataclass(frozen=True)
class ModelStatus:
    """What serves a role, for health and capabilities."""

    role: str
    name: str
    version: str | None  # None until loaded: versions come from the weights' hash
    is_default: bool
    source: str | None  # the configured weights (or None for a default)
    loaded: bool
    runtime: str | None = None


class ModelRegistry:
    """One detector and one encoder per process, built and loaded on first use."""

    def __init__(self, settings: MLSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._detector: Detector | None = None
        self._encoder: Encoder | None = None
        self._style_head: StyleHead | None = None

    # --- building (cheap: constructors read nothing) ---

    def _build_detector(self) -> Detector:
        settings = self.settings
        if settings.garment_weights:
            from ml.detection import YoloDetector

            return YoloDetector(settings)
        if settings.person_weights:
            logger.warning(
                "ml.person_weights_ignored reason=no_garment_weights "
                "hint='set ML_GARMENT_WEIGHTS for two-stage detection'"
            )
        from ml.detection import FullImageDetector

        return FullImageDetector()

    def _build_encoder(self) -> Encoder:
        settings = self.settings
        target = ENCODERS.get(settings.encoder)
        if target is None:
            raise ModelLoadError(
                f"ML_ENCODER={settings.encoder}: expected one of {', '.join(sorted(ENCODERS))}"
            )
        cls = _import(target)
        if settings.encoder == "resnet50":
            if not settings.encoder_weights:
                raise ModelLoadError("ML_ENCODER=resnet50 needs ML_ENCODER_WEIGHTS (a state dict)")
            encoder: Encoder = cls(settings)
        elif "settings" in inspect.signature(cls).parameters:
            encoder = cls(settings=settings)
        else:
            encoder = cls()
        return encoder

    # --- the models ---

    def detector(self, *, load: bool = True) -> Detector:
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    self._detector = self._build_detector()
        if load:
            self._load(self._detector, "detector")
        return self._detector

    def encoder(self, *, load: bool = True) -> Encoder:
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    self._encoder = self._build_encoder()
        if load:
            self._load(self._encoder, "encoder")
        return self._encoder

    def style_head(self, *, load: bool = True) -> StyleHead | None:
        """The trained style head ``ML_STYLE_HEAD`` names, or ``None`` (the k-NN vote serves).

        It belongs to the running encoder: building it loads the encoder for its id (a
        ResNet's version is its weights' hash), and loading it refuses a head trained for
        another encoder or taxonomy (:class:`ml.style.StyleHeadMismatch`).
        """
        path = self.settings.style_head
        if path is None:
            return None
        if self._style_head is None:
            from ml.synthetic.styles import load_styles

            encoder_id = self.encoder().encoder_id
            with self._lock:
                if self._style_head is None:
                    self._style_head = StyleHead(path, styles=load_styles(), encoder_id=encoder_id)
        if load:
            self._load(self._style_head, "style")
        return self._style_head

    def _load(self, model: Model, role: str) -> None:
        if model.loaded:
            return
        model.load()
        logger.info(
            "ml.model_serving role=%s model=%s version=%s default=%s",
            role,
            model.name,
            model.version,
            model.is_default,
        )

    def load_all(self) -> None:
        """Load every role now (a worker calls this after fork, before taking tasks)."""
        self.detector()
        self.encoder()
        self.style_head()

    # --- what serves ---

    def describe(self) -> list[ModelStatus]:
        """Each role's model, without loading anything."""
        settings = self.settings
        out: list[ModelStatus] = []
        detector = self.detector(load=False)
        out.append(
            ModelStatus(
                role="detector",
                name=detector.name,
                version=detector.version if detector.loaded else None,
                is_default=detector.is_default,
                source=None
                if detector.is_default
                else ", ".join(s for s in (settings.person_weights, settings.garment_weights) if s),
                loaded=detector.loaded,
                runtime=None if detector.is_default else settings.runtime,
            )
        )
        try:
            encoder = self.encoder(load=False)
        except (ModelLoadError, ImportError) as exc:
            logger.warning("ml.encoder_unavailable error=%s", exc)
            out.append(ModelStatus("encoder", settings.encoder, None, False, None, False, None))
        else:
            is_resnet = settings.encoder == "resnet50"
            out.append(
                ModelStatus(
                    role="encoder",
                    name=encoder.name,
                    version=encoder.version if encoder.loaded or not is_resnet else None,
                    is_default=encoder.is_default,
                    source=settings.encoder_weights if is_resnet else None,
                    loaded=encoder.loaded,
                    runtime=f"{settings.runtime}-{settings.precision}" if is_resnet else None,
                )
            )
        return out

    def describe_dict(self) -> dict[str, dict[str, Any]]:
        return {status.role: asdict(status) for status in self.describe()}


_registry: ModelRegistry | None = None
_registry_lock = threading.Lock()


def get_registry() -> ModelRegistry:
    """The process's registry, built from ``MLSettings.from_env()`` on first call."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                settings = MLSettings.from_env()
                problems = settings.validate()
                if problems:
                    raise ModelLoadError("; ".join(problems))
                _registry = ModelRegistry(settings)
    return _registry


def reset_registry(registry: ModelRegistry | None = None) -> None:
    """Forget the process's registry (tests; a worker child that must rebuild after fork),
    or install ``registry`` in its place."""
    global _registry
    with _registry_lock:
        _registry = registry
