"""What serves each model role: real weights or the named default (from settings alone).

This reads configuration only; nothing is loaded or hashed, so the web process can answer
health checks cheaply. A worker's :meth:`ml.registry.ModelRegistry.describe` adds what it
actually loaded (versions).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ml.settings import MLSettings


@dataclass(frozen=True)
class ModelInfo:
    role: str
    name: str
    source: str | None
    is_default: bool
    runtime: str | None = None


def describe_models(settings: MLSettings) -> list[ModelInfo]:
    """The model configured for each role, without loading anything."""
    if settings.garment_weights:
        two_stage = bool(settings.person_weights)
        sources = ", ".join(s for s in (settings.person_weights, settings.garment_weights) if s)
        detector = ModelInfo(
            "detector", "yolo-two-stage" if two_stage else "yolo", sources, False, settings.runtime
        )
    else:
        detector = ModelInfo("detector", "full-image (default)", None, True)
    if settings.encoder == "resnet50":
        encoder = ModelInfo(
            "encoder",
            "resnet50",
            settings.encoder_weights,
            False,
            f"{settings.runtime}-{settings.precision}",
        )
    else:
        encoder = ModelInfo("encoder", "descriptor (default)", None, True)
    style = (
        ModelInfo("style", "style-head", str(settings.style_head), False)
        if settings.style_head
        else ModelInfo("style", "knn-vote (default)", None, True)
    )
    return [detector, encoder, style]


def describe_models_dict(settings: MLSettings) -> dict[str, dict[str, object]]:
    return {info.role: asdict(info) for info in describe_models(settings)}
