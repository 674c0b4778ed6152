"""The trained style head: a small multi-label classifier over garment embeddings.

The default style model (the k-NN vote of curated catalog items, in the Django side) needs
no training; a head trained here replaces it when ``ML_STYLE_HEAD`` names its file. A head
is two linear layers over one encoder's embeddings, trained with a class-weighted binary
cross-entropy (K-Fashion is imbalanced: street is about half of it, so each style's
positives weigh ``negatives / positives``, capped).

The file (``torch.save`` of plain types and tensors, read with ``weights_only=True``)
holds the taxonomy (the 23 style names, in order) and the encoder id (``name@version``)
the head was trained on; :class:`StyleHead` refuses to load when either differs from the
running ones, because a head scores only the vectors it was trained on.

Also here, as pure functions on arrays: the metrics ``train_style`` reports (per-style
average precision, mAP, top-k accuracy, recall@3), the k-NN vote over arrays (the default
model's rule, to compare against) and a synthetic labelled set from :mod:`ml.synthetic`.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ml.base import Encoder, Model, ModelLoadError
from ml.types import Embedding, StyleVector

logger = logging.getLogger(__name__)

FORMAT = "style-head/1"
FloatArray = npt.NDArray[np.float32]
#: A style's positive weight is negatives / positives, at most this (a style seen twice
#: must not dominate the loss).
MAX_POS_WEIGHT = 20.0


class StyleHeadMismatch(ModelLoadError):
    """The head was trained for another taxonomy or another encoder's vectors."""


# --- metrics (pure) ---------------------------------------------------------------------


def average_precision(scores: FloatArray, labels: npt.NDArray[np.bool_]) -> float | None:
    """Average precision of one class: ranking by ``scores``, relevant where ``labels``.

    ``None`` when the class has no positive (AP is undefined there). Ties are ranked by
    position (stable), so a constant scorer gets the positive rate, not 1.0.
    """
    positives = int(labels.sum())
    if positives == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    hits = labels[order].astype(np.float64)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / positives)


@dataclass(frozen=True)
class StyleMetrics:
    """How well style scores rank the true styles of held-out garments.

    ``top1`` / ``top3``: share of garments with a true style among their 1 / 3 best
    scored (single-label top-k accuracy when each garment has one style). ``recall_at_3``:
    the mean share of a garment's true styles found among its 3 best. ``ap``: per style
    (styles with no held-out positive are left out); ``map``: their mean.
    """

    n: int
    ap: dict[str, float]
    map: float
    top1: float
    top3: float
    recall_at_3: float
    positives: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "map": self.map,
            "top1": self.top1,
            "top3": self.top3,
            "recall_at_3": self.recall_at_3,
            "ap": self.ap,
            "positives": self.positives,
        }


def top_k_hits(scores: FloatArray, labels: npt.NDArray[np.bool_], k: int) -> float:
    """Share of rows with at least one true label among their ``k`` best scores."""
    if scores.shape[0] == 0:
        return 0.0
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.take_along_axis(labels, top, axis=1).any(axis=1).mean())


def recall_at_k(scores: FloatArray, labels: npt.NDArray[np.bool_], k: int) -> float:
    """Mean over rows with a label: share of its true labels among its ``k`` best
    (out of at most ``k``, so a garment with 4 styles can still reach 1.0)."""
    counts = labels.sum(axis=1)
    rows = counts > 0
    if not rows.any():
        return 0.0
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    found = np.take_along_axis(labels, top, axis=1).sum(axis=1)
    return float((found[rows] / np.minimum(counts[rows], k)).mean())


def style_metrics(
    scores: FloatArray, labels: npt.NDArray[np.bool_], styles: Sequence[str]
) -> StyleMetrics:
    """The metrics of ``scores`` (n, n_styles) against 0/1 ``labels`` of the same shape."""
    labels = labels.astype(bool)
    ap: dict[str, float] = {}
    positives: dict[str, int] = {}
    for j, name in enumerate(styles):
        positives[name] = int(labels[:, j].sum())
        value = average_precision(scores[:, j], labels[:, j])
        if value is not None:
            ap[name] = value
    return StyleMetrics(
        n=int(scores.shape[0]),
        ap=ap,
        map=float(np.mean(list(ap.values()))) if ap else 0.0,
        top1=top_k_hits(scores, labels, 1),
        top3=top_k_hits(scores, labels, 3),
        recall_at_3=recall_at_k(scores, labels, 3),
        positives=positives,
    )


def knn_vote_scores(
    gallery: FloatArray, gallery_labels: npt.NDArray[np.bool_], queries: FloatArray, k: int
) -> FloatArray:
    """The default model's rule on arrays: the ``k`` most cosine-similar gallery rows vote
    with their labels, weighted by similarity (negative similarities count 0); each score is
    the weighted share of voters carrying that label. Rows must be L2-normalised."""
    k = min(k, gallery.shape[0])
    out = np.zeros((queries.shape[0], gallery_labels.shape[1]), dtype=np.float32)
    if k == 0:
        return out
    labels = gallery_labels.astype(np.float32)
    for start in range(0, queries.shape[0], 512):
        sims = queries[start : start + 512] @ gallery.T
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        weights = np.maximum(np.take_along_axis(sims, top, axis=1), 0.0)
        votes = np.einsum("qk,qks->qs", weights, labels[top])
        total = weights.sum(axis=1, keepdims=True)
        out[start : start + 512] = np.divide(
            votes, total, out=np.zeros_like(votes), where=total > 0
        )
    return out


# --- data ---------------------------------------------------------------------------------


def label_matrix(rows: Sequence[Sequence[str]], styles: Sequence[str]) -> npt.NDArray[np.bool_]:
    """0/1 (n, n_styles) from each row's style names.

    Raises:
        ValueError: a name not in ``styles`` (says which and where).
    """
    position = {name: j for j, name in enumerate(styles)}
    matrix = np.zeros((len(rows), len(styles)), dtype=bool)
    for i, names in enumerate(rows):
        for name in names:
            if name not in position:
                raise ValueError(f"row {i}: unknown style {name!r}; known: {', '.join(styles)}")
            matrix[i, position[name]] = True
    return matrix


def split_by_group(
    groups: Sequence[str | int], *, val_fraction: float, seed: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Train and validation row indices; rows of one group (a product, an image) stay on one
    side, so a garment's other photos never leak into its own validation."""
    unique = sorted({str(g) for g in groups})
    rng = np.random.default_rng(seed)
    rng.shuffle(unique)
    n_val = max(1, round(len(unique) * val_fraction)) if len(unique) > 1 else 0
    held = set(unique[:n_val])
    val = np.array([i for i, g in enumerate(groups) if str(g) in held], dtype=np.intp)
    train = np.array([i for i, g in enumerate(groups) if str(g) not in held], dtype=np.intp)
    return train, val


@dataclass(frozen=True)
class LabelledEmbeddings:
    """Embeddings of one encoder with their style labels and the group each row belongs to."""

    vectors: FloatArray
    labels: npt.NDArray[np.bool_]
    groups: tuple[str, ...]
    encoder_id: str


def synthetic_style_set(
    n: int,
    *,
    encoder: Encoder,
    styles: Sequence[str],
    seed: int = 0,
    worn_fraction: float = 0.5,
    size: int = 160,
    progress: Callable[[int], None] | None = None,
) -> LabelledEmbeddings:
    """``n`` garments from :mod:`ml.synthetic` (styles drawn uniformly; the renderer's
    labels: the style sampled from and the style that likes the look most, if any),
    each a product shot or, for ``worn_fraction`` of them, its crop from a worn scene;
    encoded with ``encoder``."""
    from ml.analysis import crop_box
    from ml.synthetic import render_product_shot, render_worn, sample_catalog

    specs = sample_catalog(n, seed=seed, styles=styles)
    rng = np.random.default_rng([seed, 88])
    vectors: list[FloatArray] = []
    batch: list[Any] = []
    for i, spec in enumerate(specs):
        if rng.random() < worn_fraction:
            scene = render_worn(spec, size=2 * size, scene=i)
            target = next((g for g in scene.garments if g.is_target), scene.garments[0])
            batch.append(crop_box(scene.image, target.box))
        else:
            batch.append(render_product_shot(spec, size=size).image)
        if len(batch) == 64 or i == n - 1:
            vectors.append(encoder.encode_array(batch))
            if progress is not None:
                progress(len(batch))
            batch = []
    return LabelledEmbeddings(
        vectors=np.concatenate(vectors) if vectors else np.zeros((0, encoder.dim), np.float32),
        labels=label_matrix([s.styles for s in specs], styles),
        groups=tuple(str(i) for i in range(n)),
        encoder_id=encoder.encoder_id,
    )


# --- training -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainConfig:
    hidden: int = 256
    epochs: int = 300
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    dropout: float = 0.2
    batch_size: int = 256
    seed: int = 0


def _network(dim: int, hidden: int, n_styles: int, dropout: float) -> Any:
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(dim, hidden),
        torch.nn.ReLU(),
        torch.nn.Dropout(dropout),
        torch.nn.Linear(hidden, n_styles),
    )


def positive_weights(labels: npt.NDArray[np.bool_]) -> FloatArray:
    """Per style: negatives / positives, capped at :data:`MAX_POS_WEIGHT` (1 with none)."""
    positives = labels.sum(axis=0).astype(np.float64)
    negatives = labels.shape[0] - positives
    weights = np.where(positives > 0, negatives / np.maximum(positives, 1.0), 1.0)
    return np.clip(weights, 1.0, MAX_POS_WEIGHT).astype(np.float32)


def train_style_head(
    vectors: FloatArray,
    labels: npt.NDArray[np.bool_],
    *,
    styles: Sequence[str],
    encoder_id: str,
    config: TrainConfig | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> StyleHead:
    """A head fitted to ``vectors`` (n, dim) and 0/1 ``labels`` (n, len(styles)).

    ``progress(epoch, loss)`` is called after each epoch. Returns a loaded head; save it
    with :meth:`StyleHead.save`.
    """
    import torch

    config = config or TrainConfig()
    if vectors.shape[0] == 0:
        raise ValueError("no labelled embeddings to train on")
    if labels.shape != (vectors.shape[0], len(styles)):
        raise ValueError(f"labels {labels.shape} do not match {vectors.shape[0]} x {len(styles)}")
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    network = _network(vectors.shape[1], config.hidden, len(styles), config.dropout)
    x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    y = torch.from_numpy(labels.astype(np.float32))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(positive_weights(labels)))
    optimiser = torch.optim.AdamW(
        network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    network.train()
    for epoch in range(config.epochs):
        order = torch.randperm(x.shape[0], generator=generator)
        total = 0.0
        for start in range(0, x.shape[0], config.batch_size):
            rows = order[start : start + config.batch_size]
            optimiser.zero_grad()
            loss = loss_fn(network(x[rows]), y[rows])
            loss.backward()
            optimiser.step()
            total += float(loss.item()) * len(rows)
        if progress is not None:
            progress(epoch + 1, total / x.shape[0])
    network.eval()
    head = StyleHead(None, styles=styles, encoder_id=encoder_id)
    head._install(
        network,
        dim=int(vectors.shape[1]),
        hidden=config.hidden,
        dropout=config.dropout,
    )
    return head


# --- the model ----------------------------------------------------------------------------


class StyleHead(Model):
    """A trained style head for one taxonomy and one encoder (see the module).

    ``StyleHead(path, styles=..., encoder_id=...)`` reads nothing; :meth:`load` reads the
    file once and checks it was trained for ``styles`` (in that order) and ``encoder_id``.
    """

    name = "style-head"

    def __init__(self, path: Path | None, *, styles: Sequence[str], encoder_id: str) -> None:
        super().__init__()
        self.path = path
        self.styles = tuple(styles)
        self.encoder_id = encoder_id
        self.version = "unloaded"
        self.dim = 0
        self.metrics: dict[str, Any] = {}
        self._network: Any = None
        self._meta: dict[str, Any] = {}

    @property
    def source(self) -> str:
        """What a stored style vector records as its source."""
        return f"{self.name}@{self.version}"

    def _install(self, network: Any, *, dim: int, hidden: int, dropout: float) -> None:
        self._network = network
        self.dim = dim
        self._meta = {"hidden": hidden, "dropout": dropout}
        buffer = io.BytesIO()
        import torch

        torch.save(network.state_dict(), buffer)
        self.version = hashlib.sha256(buffer.getvalue()).hexdigest()[:12]
        self._loaded = True

    def _load(self) -> None:
        import torch

        if self.path is None:
            raise ModelLoadError("ML_STYLE_HEAD: no file given")
        if not self.path.is_file():
            raise ModelLoadError(f"ML_STYLE_HEAD={self.path}: no such file")
        try:
            data = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:  # pickle/zip errors come in many types
            raise ModelLoadError(f"ML_STYLE_HEAD={self.path}: not a style head ({exc})") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelLoadError(f"ML_STYLE_HEAD={self.path}: not a style head ({FORMAT})")
        saved_styles = tuple(str(s) for s in data["styles"])
        if saved_styles != self.styles:
            raise StyleHeadMismatch(
                f"ML_STYLE_HEAD={self.path}: trained for another style taxonomy "
                f"({len(saved_styles)} styles: {', '.join(saved_styles[:4])}...) than the "
                f"running one ({len(self.styles)}: {', '.join(self.styles[:4])}...); "
                "retrain it with train_style"
            )
        if data["encoder_id"] != self.encoder_id:
            raise StyleHeadMismatch(
                f"ML_STYLE_HEAD={self.path}: trained on {data['encoder_id']} embeddings, but the "
                f"running encoder is {self.encoder_id}; retrain it with train_style (or unset "
                "ML_STYLE_HEAD to use the k-NN vote)"
            )
        network = _network(int(data["dim"]), int(data["hidden"]), len(self.styles), 0.0)
        network.load_state_dict(data["state_dict"])
        network.eval()
        self._network = network
        self.dim = int(data["dim"])
        self.version = str(data["version"])
        self.metrics = dict(data.get("metrics") or {})
        self._meta = {"hidden": int(data["hidden"]), "dropout": float(data["dropout"])}

    def save(self, path: Path, *, metrics: dict[str, Any] | None = None) -> Path:
        """Write the head with its taxonomy, encoder id, version and validation metrics."""
        import torch

        self.load()
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "format": FORMAT,
                "styles": list(self.styles),
                "encoder_id": self.encoder_id,
                "dim": self.dim,
                "hidden": self._meta["hidden"],
                "dropout": self._meta["dropout"],
                "version": self.version,
                "metrics": metrics or {},
                "state_dict": self._network.state_dict(),
            },
            path,
        )
        self.path = path
        return path

    def predict_array(self, vectors: FloatArray) -> FloatArray:
        """Probabilities (n, n_styles) for embeddings (n, dim) of this head's encoder."""
        import torch

        self.load()
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected (n, {self.dim}) embeddings, got {vectors.shape}")
        with torch.inference_mode():
            logits = self._network(torch.from_numpy(np.ascontiguousarray(vectors, np.float32)))
            probabilities: FloatArray = torch.sigmoid(logits).numpy().astype(np.float32)
        return probabilities

    def predict(self, embeddings: Sequence[Embedding]) -> list[StyleVector]:
        """One style vector per embedding.

        Raises:
            StyleHeadMismatch: an embedding made by another encoder than the head's.
        """
        self.load()
        if not embeddings:
            return []
        for embedding in embeddings:
            if embedding.encoder_id != self.encoder_id:
                raise StyleHeadMismatch(
                    f"the style head scores {self.encoder_id} embeddings, "
                    f"not {embedding.encoder_id}"
                )
        scores = self.predict_array(np.stack([e.to_numpy() for e in embeddings]))
        return [
            StyleVector(
                scores=tuple(float(round(float(s), 6)) for s in row),
                styles=self.styles,
                source=self.source,
            )
            for row in scores
        ]
