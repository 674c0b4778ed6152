"""ResNet50 embeddings: torchvision's network from a configured state dict.

The classifier head is dropped (``fc`` keys are ignored); the vector is the global-average
pooled 2048-d feature, optionally projected by a PCA fitted on the catalog
(:func:`fit_pca`, saved with the index as ``.npz``). Runs in eager torch
(``inference_mode``, channels_last) or in ONNX Runtime, fp32 or int8 (``ML_RUNTIME``,
``ML_PRECISION``; see :mod:`ml.onnx_export`).

The version names the weights (a short hash of the file), the preprocessing, the precision
and the projection, so vectors that differ in any of them are never mixed in one index.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from ml.base import Encoder, ModelLoadError
from ml.device import torch_device
from ml.preprocess import RESNET50_IMAGENET, PreprocessSpec, load_spec_beside, to_batch
from ml.settings import MLSettings
from ml.weights import file_digest, resolve_weights

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

FEATURE_DIM = 2048
_PREFIXES = ("module.", "model.", "backbone.", "encoder.")


# --- PCA projection -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Projection:
    """``(v - mean) @ components.T``: a PCA fitted on catalog vectors."""

    mean: npt.NDArray[np.float32]  # (D,)
    components: npt.NDArray[np.float32]  # (k, D), rows orthonormal
    explained_variance_ratio: float = 0.0

    @property
    def dim(self) -> int:
        return int(self.components.shape[0])

    @property
    def input_dim(self) -> int:
        return int(self.components.shape[1])

    @property
    def fingerprint(self) -> str:
        sha = hashlib.sha256()
        sha.update(np.ascontiguousarray(self.mean, dtype="<f4").tobytes())
        sha.update(np.ascontiguousarray(self.components, dtype="<f4").tobytes())
        return sha.hexdigest()[:6]

    def apply(self, vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if vectors.shape[-1] != self.input_dim:
            raise ValueError(f"projection expects {self.input_dim}-d vectors, got {vectors.shape}")
        projected: npt.NDArray[np.float32] = ((vectors - self.mean) @ self.components.T).astype(
            np.float32, copy=False
        )
        return projected

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:  # a handle: np.savez would append .npz to a name
            np.savez(
                handle,
                mean=self.mean,
                components=self.components,
                explained_variance_ratio=np.float64(self.explained_variance_ratio),
            )

    @classmethod
    def load(cls, path: Path) -> Projection:
        with np.load(path) as data:
            mean = np.asarray(data["mean"], dtype=np.float32)
            components = np.asarray(data["components"], dtype=np.float32)
            key = "explained_variance_ratio"
            ratio = float(data[key]) if key in data else 0.0
        if components.ndim != 2 or mean.shape != (components.shape[1],):
            raise ValueError(f"{path}: mean {mean.shape} and components {components.shape} differ")
        return cls(mean, components, ratio)


def fit_pca(vectors: npt.NDArray[np.float32], dim: int) -> Projection:
    """The top-``dim`` principal components of ``vectors`` (n, D); needs n > dim."""
    data = np.asarray(vectors, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError("fit_pca expects a 2-d array (n, D)")
    n, features = data.shape
    if not 0 < dim <= features:
        raise ValueError(f"dim must be in 1..{features}, got {dim}")
    if n <= dim:
        raise ValueError(f"fitting {dim} components needs more than {dim} vectors, got {n}")
    mean = data.mean(axis=0)
    _, singular, vt = np.linalg.svd(data - mean, full_matrices=False)
    variance = singular**2
    ratio = float(variance[:dim].sum() / variance.sum()) if variance.sum() > 0 else 0.0
    return Projection(mean.astype(np.float32), vt[:dim].astype(np.float32), ratio)


# --- the network ------------------------------------------------------------------------


def _state_dict_from(raw: Any) -> dict[str, Any]:
    """A torchvision-layout state dict out of the common checkpoint wrappings."""
    if isinstance(raw, Mapping):
        for key in ("state_dict", "model_state_dict", "model"):
            inner = raw.get(key)
            if isinstance(inner, Mapping):
                raw = inner
                break
    if not isinstance(raw, Mapping):
        raise TypeError(f"a {type(raw).__name__}, not a state dict")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key)
        for prefix in _PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix) :]
        out[name] = value
    return out


def load_resnet50(path: Path, *, variable: str = "ML_ENCODER_WEIGHTS") -> torch.nn.Module:
    """torchvision ResNet50 with the state dict at ``path`` and no classifier (``fc`` is an
    identity, so the output is the pooled 2048-d feature), in eval mode on CPU.

    Raises:
        ModelLoadError: unreadable, not a state dict, or not ResNet50's layers.
    """
    import torch
    from torchvision.models import resnet50

    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
        state = _state_dict_from(raw)
    except Exception as exc:  # torch raises many types for a file that is not a checkpoint
        raise ModelLoadError(f"{variable}={path}: not a readable state dict ({exc})") from exc
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    model: torch.nn.Module = resnet50(weights=None)
    model.fc = torch.nn.Identity()
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches: another architecture
        raise ModelLoadError(f"{variable}={path}: not ResNet50 weights ({exc})") from exc
    if result.missing_keys:
        raise ModelLoadError(
            f"{variable}={path}: not ResNet50 weights ({len(result.missing_keys)} layers "
            f"missing, e.g. {', '.join(result.missing_keys[:3])})"
        )
    if result.unexpected_keys:
        logger.warning(
            "ml.resnet_extra_keys count=%d first=%s",
            len(result.unexpected_keys),
            result.unexpected_keys[0],
        )
    model.eval()
    return model


class ResNetEncoder(Encoder):
    """ResNet50 pooled features, L2-normalised (and PCA-projected when configured)."""

    name = "resnet50"

    def __init__(self, settings: MLSettings, projection: Projection | None = None) -> None:
        super().__init__()
        if not settings.encoder_weights:
            raise ValueError("ResNetEncoder needs ML_ENCODER_WEIGHTS")
        self.settings = settings
        self.version = "unloaded"
        self.dim = projection.dim if projection else FEATURE_DIM
        self.spec: PreprocessSpec = RESNET50_IMAGENET
        self.weights_path: Path | None = None
        self.runtime = settings.runtime
        self.precision = settings.precision
        self._projection = projection
        self._model: Any = None
        self._session: Any = None
        self._device = "cpu"

    @property
    def projection(self) -> Projection | None:
        return self._projection

    def _load(self) -> None:
        settings = self.settings
        assert settings.encoder_weights is not None
        if self.runtime not in ("torch", "onnx") or self.precision not in ("fp32", "int8"):
            raise ModelLoadError(
                f"ML_RUNTIME={self.runtime} ML_PRECISION={self.precision}: expected "
                "torch|onnx and fp32|int8"
            )
        if self.precision == "int8" and self.runtime != "onnx":
            raise ModelLoadError("ML_PRECISION=int8 needs ML_RUNTIME=onnx")
        path = resolve_weights(
            settings.encoder_weights,
            variable="ML_ENCODER_WEIGHTS",
            cache_dir=settings.model_cache_dir,
            s3_endpoint_url=settings.s3_endpoint_url,
        )
        self.weights_path = path
        try:
            self.spec = load_spec_beside(path, RESNET50_IMAGENET)
        except (ValueError, OSError) as exc:
            raise ModelLoadError(f"ML_ENCODER_WEIGHTS={path}: preprocess sidecar: {exc}") from exc
        if self._projection is None and settings.encoder_projection is not None:
            try:
                self._projection = Projection.load(settings.encoder_projection)
            except (OSError, ValueError, KeyError) as exc:
                raise ModelLoadError(
                    f"ML_ENCODER_PROJECTION={settings.encoder_projection}: {exc}"
                ) from exc
        if self._projection is not None and self._projection.input_dim != FEATURE_DIM:
            raise ModelLoadError(
                f"ML_ENCODER_PROJECTION: expects {self._projection.input_dim}-d input, "
                f"ResNet50 gives {FEATURE_DIM}"
            )
        if self.runtime == "onnx":
            self._session = self._onnx_session(path)
        else:
            import torch

            self._device = torch_device(settings)
            model = load_resnet50(path)
            self._model = model.to(self._device).to(memory_format=torch.channels_last)
        self.dim = self._projection.dim if self._projection else FEATURE_DIM
        self.version = self._version(path)

    def _version(self, path: Path) -> str:
        parts = [file_digest(path, 10), self.spec.fingerprint]
        if self.precision == "int8":
            parts.append("int8")
        if self._projection is not None:
            parts.append(f"pca{self._projection.dim}.{self._projection.fingerprint}")
        return "-".join(parts)

    def _onnx_session(self, path: Path) -> Any:
        from ml.onnx_export import ensure_resnet_onnx, ort_session

        onnx_path = ensure_resnet_onnx(
            self.settings, weights=path, spec=self.spec, precision=self.precision
        )
        return ort_session(onnx_path, threads=self.settings.num_threads)

    def _batches(self, images: Sequence[Image.Image]) -> Iterator[Sequence[Image.Image]]:
        size = max(1, self.settings.encoder_batch_size)
        for start in range(0, len(images), size):
            yield images[start : start + size]

    def _features(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if self._session is not None:
            out = self._session.run(None, {"images": batch})[0]
            return np.asarray(out, dtype=np.float32)
        import torch

        with torch.inference_mode():
            tensor = torch.from_numpy(batch).to(self._device, memory_format=torch.channels_last)
            features = self._model(tensor)
            return np.asarray(features.float().cpu().numpy(), dtype=np.float32)

    def encode_features(self, images: Sequence[Image.Image]) -> npt.NDArray[np.float32]:
        """(n, 2048) L2-normalised pooled features, before any projection: what
        :func:`fit_pca` is fitted on."""
        self.load()
        if not images:
            return np.zeros((0, FEATURE_DIM), dtype=np.float32)
        chunks = [self._features(to_batch(chunk, self.spec)) for chunk in self._batches(images)]
        features = np.concatenate(chunks, axis=0)
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        normalised: npt.NDArray[np.float32] = (features / np.maximum(norms, 1e-12)).astype(
            np.float32, copy=False
        )
        return normalised

    def _encode(self, images: Sequence[Image.Image]) -> npt.NDArray[np.float32]:
        features = self.encode_features(images)
        if self._projection is None:
            return features
        return self._projection.apply(features)
