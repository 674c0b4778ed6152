"""What serves each model role: real weights or the named default."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ml.settings import MLSettings


@dataclass(frozen=True)
class ModelInfo:
    role: str
    name: str
    source: str | None
    is_default: bool


def describe_models(settings: MLSettings) -> list[ModelInfo]:
    """The model configured for each role, without loading anything."""
    detector = (
        ModelInfo("detector", "yolo-two-stage", str(settings.garment_weights), False)
        if settings.garment_weights
        else ModelInfo("detector", "full-image (default)", None, True)
    )
    if settings.encoder == "resnet50":
        encoder = ModelInfo("encoder", "resnet50", str(settings.encoder_weights), False)
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
