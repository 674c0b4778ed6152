"""The dominant colour of a garment crop, named from a small palette."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

#: name → sRGB; the names the app shows and filters by
PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 20),
    "white": (245, 245, 245),
    "gray": (128, 128, 128),
    "red": (200, 30, 40),
    "orange": (240, 130, 30),
    "yellow": (240, 215, 50),
    "green": (50, 140, 60),
    "khaki": (150, 140, 90),
    "blue": (40, 100, 200),
    "navy": (25, 35, 80),
    "purple": (120, 60, 150),
    "pink": (240, 150, 180),
    "brown": (110, 70, 40),
    "beige": (220, 200, 160),
}


def _srgb_to_lab(rgb: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    c = rgb / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    matrix = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )
    xyz = linear @ matrix.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    lightness = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    result: npt.NDArray[np.float64] = np.stack([lightness, a, b], axis=-1)
    return result


_NAMES = list(PALETTE)
_PALETTE_LAB = _srgb_to_lab(np.array([PALETTE[n] for n in _NAMES], dtype=np.float64))


def dominant_colour(image: Image.Image) -> str:
    """The palette name most of the garment's pixels are closest to.

    Only the central 60% of the crop votes, where the garment is and the background is not.
    """
    small = image.convert("RGB").resize((48, 48), Image.Resampling.BILINEAR)
    pixels = np.asarray(small, dtype=np.float64)[10:38, 10:38].reshape(-1, 3)
    lab = _srgb_to_lab(pixels)
    distances = np.linalg.norm(lab[:, None, :] - _PALETTE_LAB[None, :, :], axis=2)
    votes = np.bincount(distances.argmin(axis=1), minlength=len(_NAMES))
    return _NAMES[int(votes.argmax())]
