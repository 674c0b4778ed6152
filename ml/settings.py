"""The ml library's settings: one frozen object read from ``ML_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


@dataclass(frozen=True)
class MLSettings:
    """Where the models come from and how they run.

    A weight source left empty selects the named default for that role (see the README:
    "Bringing real model weights").
    """

    person_weights: Path | None = None
    garment_weights: Path | None = None
    encoder: str = "descriptor"
    encoder_weights: Path | None = None
    style_head: Path | None = None
    device: str = "auto"
    num_threads: int = 2
    runtime: str = "torch"
    precision: str = "fp32"
    model_cache_dir: Path = Path("var/models")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MLSettings:
        env = os.environ if environ is None else environ
        return cls(
            person_weights=_path(env.get("ML_PERSON_WEIGHTS")),
            garment_weights=_path(env.get("ML_GARMENT_WEIGHTS")),
            encoder=env.get("ML_ENCODER", "descriptor"),
            encoder_weights=_path(env.get("ML_ENCODER_WEIGHTS")),
            style_head=_path(env.get("ML_STYLE_HEAD")),
            device=env.get("ML_DEVICE", "auto"),
            num_threads=int(env.get("ML_NUM_THREADS", "2")),
            runtime=env.get("ML_RUNTIME", "torch"),
            precision=env.get("ML_PRECISION", "fp32"),
            model_cache_dir=Path(env.get("ML_MODEL_CACHE_DIR", "var/models")),
        )
