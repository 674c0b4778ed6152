"""Typed results at ml's edge: frozen dataclasses of plain types.

Tensors, numpy arrays and ultralytics ``Results`` stay inside ``ml``; callers (the worker,
the Django apps) get these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

GarmentCategory = Literal["top", "bottom", "outer", "dress"]
CATEGORIES: tuple[GarmentCategory, ...] = ("top", "bottom", "outer", "dress")


@dataclass(frozen=True)
class Box:
    """A box in original-image pixels: (x1, y1) top-left, (x2, y2) bottom-right."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return max(0.0, self.x2 - self.x1)

    @property
    def height(self) -> float:
        return max(0.0, self.y2 - self.y1)

    @property
    def area(self) -> float:
        return self.width * self.height

    def clip(self, width: int, height: int) -> Box:
        return Box(
            min(max(self.x1, 0.0), float(width)),
            min(max(self.y1, 0.0), float(height)),
            min(max(self.x2, 0.0), float(width)),
            min(max(self.y2, 0.0), float(height)),
        )

    def shift(self, dx: float, dy: float) -> Box:
        return Box(self.x1 + dx, self.y1 + dy, self.x2 + dx, self.y2 + dy)

    def as_list(self) -> list[float]:
        return [self.x1, self.y1, self.x2, self.y2]

    def as_int_tuple(self) -> tuple[int, int, int, int]:
        return (round(self.x1), round(self.y1), round(self.x2), round(self.y2))

    @classmethod
    def from_list(cls, values: list[float] | tuple[float, ...]) -> Box:
        x1, y1, x2, y2 = (float(v) for v in values)
        return cls(x1, y1, x2, y2)


@dataclass(frozen=True)
class Detection:
    """One thing found in an image.

    ``kind`` is ``person`` or ``garment``. A garment's ``category`` is one of the four
    (``None`` when its class maps onto none of them); ``person_index`` says which detected
    person it was found inside (``None`` for a photo with no person).
    """

    box: Box
    label: str
    category: GarmentCategory | None
    score: float
    kind: Literal["person", "garment"] = "garment"
    person_index: int | None = None


@dataclass(frozen=True)
class Embedding:
    """An L2-normalised float32 vector and the encoder (name + version) that made it."""

    values: bytes  # float32, little-endian; see to_numpy()
    dim: int
    encoder: str
    version: str

    @classmethod
    def from_numpy(
        cls, vector: npt.NDArray[np.float32], *, encoder: str, version: str
    ) -> Embedding:
        array = np.ascontiguousarray(vector, dtype="<f4").reshape(-1)
        return cls(array.tobytes(), int(array.shape[0]), encoder, version)

    def to_numpy(self) -> npt.NDArray[np.float32]:
        return np.frombuffer(self.values, dtype="<f4").astype(np.float32, copy=False)

    @property
    def encoder_id(self) -> str:
        """``name@version``: vectors with different ids never share an index."""
        return f"{self.encoder}@{self.version}"


@dataclass(frozen=True)
class StyleVector:
    """23 probabilities over the K-Fashion styles (multi-label), in taxonomy order."""

    scores: tuple[float, ...]
    styles: tuple[str, ...]
    source: str  # e.g. "knn-vote" or "style-head@<version>"

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        ranked = sorted(zip(self.styles, self.scores, strict=True), key=lambda p: -p[1])
        return ranked[:k]

    @property
    def dominant(self) -> str:
        return self.top(1)[0][0]
