"""Fabric patterns evaluated on body coordinates.

Every pattern is a pure function of the garment's colours, its seed and the body
coordinates (u, v) of each pixel, so the same garment shows the same print at any scale or
placement (a product shot and a worn scene of one product agree).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]

_CELLS = 64


def _colour(colours: F32, i: int) -> F32:
    return np.asarray(colours[i % len(colours)], dtype=np.float32)


def _fill(shape: tuple[int, int], colour: F32) -> F32:
    out = np.empty((*shape, 3), dtype=np.float32)
    out[...] = colour
    return out


def _paint(out: F32, where: npt.NDArray[np.bool_], colour: F32) -> None:
    out[where] = colour


def _frac(x: F32) -> F32:
    return (x - np.floor(x)).astype(np.float32, copy=False)


def _noise(rng: np.random.Generator, u: F32, v: F32, spacing: float) -> F32:
    """Smooth value noise in [0, 1] over the body frame, sampled at (u, v)."""
    grid_w = math.ceil(1.4 / spacing) + 4
    grid_h = math.ceil(1.4 / spacing) + 4
    grid = rng.random((grid_h, grid_w), dtype=np.float32)
    map_x = ((u + 0.7) / spacing).astype(np.float32)
    map_y = ((v + 0.2) / spacing).astype(np.float32)
    sampled = cv2.remap(grid, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    return np.clip(np.asarray(sampled, dtype=np.float32), 0.0, 1.0)


def _cells(rng: np.random.Generator, u: F32, v: F32, spacing: float) -> tuple[F32, F32, F32]:
    """Per pixel: offset (du, dv) from its cell's jittered centre, in cell units, and the
    cell's random values (h, w, 6)."""
    table = rng.random((_CELLS, _CELLS, 6), dtype=np.float32)
    su = u / spacing
    sv = v / spacing
    i = np.floor(su)
    j = np.floor(sv)
    vals = table[j.astype(np.int64) % _CELLS, i.astype(np.int64) % _CELLS]
    du = (su - i - (0.35 + 0.3 * vals[..., 0])).astype(np.float32)
    dv = (sv - j - (0.35 + 0.3 * vals[..., 1])).astype(np.float32)
    return du, dv, vals


def texture(
    pattern: str,
    colours: F32,
    seed: int,
    u: F32,
    v: F32,
    bbox: tuple[float, float, float, float],
) -> F32:
    """(h, w, 3) float32 RGB of ``pattern`` at body coordinates ``u``, ``v`` (each (h, w)).

    ``colours`` is (k, 3) float32 in 0..255 (main colour first); ``bbox`` is the garment's
    outline box in body coordinates (for prints placed relative to the garment).
    """
    rng = np.random.default_rng([seed, 101])
    shape = (u.shape[0], u.shape[1])
    c0, c1, c2 = _colour(colours, 0), _colour(colours, 1), _colour(colours, 2)
    out = _fill(shape, c0)
    if pattern == "solid":
        return out
    if pattern == "stripes":
        period = float(rng.uniform(0.022, 0.06))
        angle = float(rng.choice([0.0, 0.0, 90.0, 45.0, -45.0]))
        duty = float(rng.uniform(0.25, 0.55))
        theta = math.radians(angle)
        t = ((u * math.sin(theta) + v * math.cos(theta)) / period).astype(np.float32)
        stripe = _frac(t) < duty
        if rng.random() < 0.4:
            odd = (np.floor(t).astype(np.int64) % 2) == 1
            _paint(out, stripe & odd, c2)
            _paint(out, stripe & ~odd, c1)
        else:
            _paint(out, stripe, c1)
        return out
    if pattern == "checks":
        period = float(rng.uniform(0.03, 0.075))
        duty = float(rng.uniform(0.3, 0.5))
        hb = (_frac(v / period) < duty).astype(np.float32)
        vb = (_frac(u / period) < duty).astype(np.float32)
        amount = (0.55 * hb + 0.55 * vb)[..., None]
        out = (c0 * (1.0 - np.minimum(amount, 1.0)) + c1 * np.minimum(amount, 1.0)).astype(
            np.float32
        )
        if rng.random() < 0.5:
            line = (_frac(u / period + 0.5) < 0.08) | (_frac(v / period + 0.5) < 0.08)
            _paint(out, line, c2)
        return out
    if pattern == "dots":
        spacing = float(rng.uniform(0.028, 0.06))
        radius = float(rng.uniform(0.16, 0.32))
        row = np.floor(v / spacing)
        du = _frac(u / spacing + 0.5 * (row % 2)) - 0.5
        dv = _frac(v / spacing) - 0.5
        _paint(out, du * du + dv * dv < radius * radius, c1)
        return out
    if pattern == "floral":
        spacing = float(rng.uniform(0.045, 0.085))
        du, dv, vals = _cells(rng, u, v, spacing)
        r = np.sqrt(du * du + dv * dv)
        theta = np.arctan2(dv, du) + vals[..., 2] * 6.2832
        rad = 0.2 + 0.1 * vals[..., 4]
        present = vals[..., 3] < 0.8
        petals = r < rad * (0.5 + 0.5 * np.abs(np.cos(2.5 * theta)))
        _paint(out, present & petals, c1)
        _paint(out, present & (r < rad * 0.28), c2)
        return out
    if pattern == "leopard":
        spacing = float(rng.uniform(0.04, 0.07))
        du, dv, vals = _cells(rng, u, v, spacing)
        a = 0.8 + 0.5 * vals[..., 2]
        b = 0.8 + 0.5 * vals[..., 3]
        wobble = 0.04 * np.sin(3.0 * np.arctan2(dv, du) + 6.2832 * vals[..., 5])
        d = np.sqrt((du * a) ** 2 + (dv * b) ** 2) + wobble
        rad = 0.22 + 0.08 * vals[..., 4]
        _paint(out, (d < rad) & (d > 0.55 * rad), c1)
        _paint(out, d <= 0.55 * rad, (0.75 * c0 + 0.25 * c2).astype(np.float32))
        return out
    if pattern == "camouflage":
        n = 0.65 * _noise(rng, u, v, 0.055) + 0.35 * _noise(rng, u, v, 0.024)
        dark = (0.55 * c0).astype(np.float32)
        _paint(out, n > 0.44, c1)
        _paint(out, n > 0.54, c2)
        _paint(out, n > 0.63, dark)
        return out
    if pattern == "zigzag":
        period = float(rng.uniform(0.04, 0.08))
        amp = float(rng.uniform(0.012, 0.03))
        band = float(rng.uniform(0.018, 0.04))
        t = v + amp * 2.0 * np.abs(_frac(u / period) - 0.5)
        idx = np.floor(t / band).astype(np.int64) % 3
        _paint(out, idx == 1, c1)
        _paint(out, idx == 2, c2)
        return out
    if pattern == "tiedye":
        x0, y0, x1, y1 = bbox
        cx = (x0 + x1) / 2 + float(rng.uniform(-0.03, 0.03))
        cy = y0 + (y1 - y0) * float(rng.uniform(0.3, 0.5))
        period = float(rng.uniform(0.03, 0.06))
        twist = float(rng.uniform(0.5, 2.0))
        r = np.sqrt((u - cx) ** 2 + (v - cy) ** 2)
        theta = np.arctan2(v - cy, u - cx)
        wave = np.sin(6.2832 * (r / period) + twist * theta + 3.0 * _noise(rng, u, v, 0.05))
        m = (0.5 + 0.5 * wave)[..., None]
        out = (c0 * (1.0 - m) + c1 * m).astype(np.float32)
        blot = (wave > 0.8)[..., None].astype(np.float32) * 0.6
        blotted: F32 = (out * (1.0 - blot) + c2 * blot).astype(np.float32)
        return blotted
    if pattern == "colorblock":
        x0, y0, x1, y1 = bbox
        f1 = float(rng.uniform(0.3, 0.45))
        f2 = float(rng.uniform(0.55, 0.75))
        across = (u - x0) / max(x1 - x0, 1e-6)
        down = (v - y0) / max(y1 - y0, 1e-6)
        t = down if rng.random() < 0.5 else across * 0.7 + down * 0.3
        _paint(out, t > f1, c1)
        _paint(out, t > f2, c2)
        return out
    raise ValueError(f"unknown pattern {pattern!r}")
