"""The one shape every model class has.

A cheap constructor (nothing is read or allocated); ``load()`` that does the work once,
under a lock, and may be called again; predictions that load if needed. Models are built
by :mod:`ml.registry` from :class:`ml.settings.MLSettings` and loaded in the worker process
after fork, never at import time.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from PIL import Image

from ml.types import Box, Detection, Embedding

logger = logging.getLogger(__name__)


class ModelLoadError(RuntimeError):
    """A configured model could not be loaded; the message names the variable to fix."""


class Model(ABC):
    name: str = "model"
    version: str = "0"
    #: True for the named defaults that need no weights.
    is_default: bool = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = False

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            self._load()
            self._loaded = True
            logger.info(
                "ml.model_loaded model=%s version=%s default=%s",
                self.name,
                self.version,
                self.is_default,
            )

    @abstractmethod
    def _load(self) -> None:
        """Read weights, build the network; called once."""


class Detector(Model):
    """Finds garments (and people) in an image."""

    def detect(
        self, image: Image.Image, *, box: Box | None = None, category: str | None = None
    ) -> list[Detection]:
        """Garments in ``image`` (RGB), boxes in its pixels.

        ``box``: the region the user tapped; detection is skipped for it and it is the one
        garment returned. ``category``: the category the client gave, if any.
        """
        self.load()
        return self._detect(image, box=box, category=category)

    @abstractmethod
    def _detect(
        self, image: Image.Image, *, box: Box | None, category: str | None
    ) -> list[Detection]: ...


class Encoder(Model):
    """Turns garment crops into L2-normalised float32 vectors."""

    dim: int = 0

    @property
    def encoder_id(self) -> str:
        return f"{self.name}@{self.version}"

    def encode_array(self, images: Sequence[Image.Image]) -> npt.NDArray[np.float32]:
        """(n, dim) float32, each row of unit L2 norm."""
        self.load()
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._encode(images).astype(np.float32, copy=False)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: npt.NDArray[np.float32] = (vectors / np.maximum(norms, 1e-12)).astype(
            np.float32, copy=False
        )
        return normalised

    def encode(self, images: Sequence[Image.Image]) -> list[Embedding]:
        return [
            Embedding.from_numpy(row, encoder=self.name, version=self.version)
            for row in self.encode_array(images)
        ]

    @abstractmethod
    def _encode(self, images: Sequence[Image.Image]) -> npt.NDArray[np.float32]: ...
