"""The 23 K-Fashion styles as distributions over palettes, patterns and shapes.

Each style prefers a few palettes, patterns and shapes; the preferences overlap (military
and street share camouflage, classic and sophisticated share neutral solids...), so a style
is learnable from the look without every garment being a caricature of one style.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

RGB = tuple[int, int, int]

#: ``config/taxonomy/styles.json`` of this repository; ``ml`` reads it by path (no Django).
DEFAULT_STYLES_PATH = Path(__file__).resolve().parents[2] / "config" / "taxonomy" / "styles.json"

PATTERNS: tuple[str, ...] = (
    "solid",
    "stripes",
    "checks",
    "dots",
    "floral",
    "camouflage",
    "zigzag",
    "leopard",
    "tiedye",
    "colorblock",
)

PALETTES: dict[str, tuple[RGB, ...]] = {
    "monochrome": ((20, 20, 22), (245, 245, 242), (128, 128, 130), (70, 70, 74), (190, 190, 188)),
    "neutral": ((222, 205, 178), (176, 136, 96), (238, 232, 218), (140, 128, 116), (62, 58, 56)),
    "navy_white": ((28, 40, 92), (246, 246, 246), (196, 32, 44), (120, 150, 200), (222, 200, 150)),
    "pastel": ((244, 190, 206), (200, 184, 232), (176, 228, 204), (172, 206, 240), (250, 214, 180)),
    "earth": ((104, 108, 52), (120, 78, 46), (178, 84, 44), (208, 160, 52), (188, 170, 120)),
    "military": ((86, 94, 54), (170, 152, 108), (46, 60, 38), (104, 82, 58), (134, 130, 96)),
    "denim": ((44, 62, 110), (110, 146, 196), (240, 240, 236), (72, 96, 140), (176, 196, 222)),
    "neon": ((80, 250, 60), (255, 40, 160), (30, 110, 255), (255, 236, 20), (20, 20, 20)),
    "primary": ((220, 30, 36), (30, 80, 200), (250, 206, 20), (20, 150, 70), (245, 245, 245)),
    "jewel": ((16, 122, 90), (20, 52, 150), (150, 16, 50), (110, 40, 140), (212, 170, 60)),
    "dark": ((14, 14, 16), (110, 14, 24), (56, 56, 60), (62, 28, 80), (180, 180, 186)),
    "tropical": ((30, 200, 200), (250, 120, 100), (160, 230, 50), (252, 248, 238), (252, 200, 40)),
    "romantic_red": (
        (200, 24, 48),
        (112, 20, 40),
        (240, 150, 170),
        (248, 236, 220),
        (180, 90, 120),
    ),
    "western_tan": ((196, 150, 100), (110, 70, 40), (60, 170, 170), (236, 222, 196), (160, 70, 40)),
}


@dataclass(frozen=True)
class StyleProfile:
    """Weights a style gives to palettes and patterns, and the shapes it favours."""

    palettes: tuple[tuple[str, float], ...]
    patterns: tuple[tuple[str, float], ...]
    shapes: frozenset[str]

    def palette_weight(self, palette: str) -> float:
        return dict(self.palettes).get(palette, 0.0)

    def pattern_weight(self, pattern: str) -> float:
        return dict(self.patterns).get(pattern, 0.0)


def _p(palettes: dict[str, float], patterns: dict[str, float], shapes: str) -> StyleProfile:
    return StyleProfile(tuple(palettes.items()), tuple(patterns.items()), frozenset(shapes.split()))


STYLE_PROFILES: dict[str, StyleProfile] = {
    "classic": _p(
        {"neutral": 3, "navy_white": 2, "monochrome": 2},
        {"solid": 4, "stripes": 2, "checks": 2},
        "shirt trousers blazer coat sheath",
    ),
    "manish": _p(
        {"monochrome": 3, "neutral": 2, "dark": 1},
        {"solid": 3, "checks": 3, "stripes": 1},
        "shirt wide_trousers blazer coat",
    ),
    "feminine": _p(
        {"pastel": 3, "romantic_red": 2, "neutral": 1},
        {"floral": 3, "solid": 2, "dots": 2},
        "aline skirt crop slip",
    ),
    "hippie": _p(
        {"earth": 3, "tropical": 2, "pastel": 1},
        {"tiedye": 3, "zigzag": 3, "floral": 2},
        "maxi wide_trousers tank",
    ),
    "modern": _p(
        {"monochrome": 4, "neutral": 2},
        {"solid": 5, "colorblock": 2},
        "sheath trousers coat tshirt",
    ),
    "country": _p(
        {"earth": 3, "western_tan": 2, "denim": 1},
        {"checks": 4, "floral": 2, "solid": 1},
        "shirt aline trousers jacket",
    ),
    "genderless": _p(
        {"monochrome": 3, "neutral": 2, "denim": 1},
        {"solid": 4, "stripes": 1, "colorblock": 1},
        "tshirt wide_trousers coat longsleeve",
    ),
    "sporty": _p(
        {"primary": 3, "neon": 2, "monochrome": 1},
        {"colorblock": 4, "solid": 2, "stripes": 2},
        "tshirt tank shorts jacket",
    ),
    "retro": _p(
        {"primary": 2, "earth": 2, "jewel": 1},
        {"dots": 3, "checks": 2, "stripes": 2},
        "aline wide_trousers shirt skirt",
    ),
    "military": _p(
        {"military": 5, "earth": 2},
        {"camouflage": 5, "solid": 2},
        "jacket trousers shirt coat",
    ),
    "preppy": _p(
        {"navy_white": 4, "primary": 1, "neutral": 1},
        {"checks": 3, "stripes": 3, "solid": 1},
        "shirt mini_skirt blazer shorts",
    ),
    "tomboy": _p(
        {"denim": 3, "monochrome": 2, "primary": 1},
        {"solid": 2, "stripes": 2, "checks": 1},
        "tshirt trousers shorts jacket",
    ),
    "romantic": _p(
        {"pastel": 3, "romantic_red": 3},
        {"floral": 4, "dots": 2, "solid": 1},
        "aline maxi skirt slip",
    ),
    "western": _p(
        {"western_tan": 4, "denim": 2, "earth": 1},
        {"checks": 2, "zigzag": 2, "solid": 2},
        "shirt trousers jacket",
    ),
    "sophisticated": _p(
        {"monochrome": 2, "jewel": 2, "neutral": 2},
        {"solid": 5},
        "sheath coat blazer trousers",
    ),
    "resort": _p(
        {"tropical": 4, "pastel": 1},
        {"floral": 3, "stripes": 2, "tiedye": 1},
        "maxi shorts tank slip",
    ),
    "kitsch": _p(
        {"neon": 3, "primary": 2, "pastel": 1},
        {"dots": 3, "leopard": 2, "checks": 2, "floral": 1},
        "crop mini_skirt aline",
    ),
    "street": _p(
        {"monochrome": 2, "neon": 1, "denim": 1, "military": 1},
        {"colorblock": 2, "camouflage": 2, "solid": 2},
        "tshirt wide_trousers jacket",
    ),
    "sexy": _p(
        {"dark": 3, "romantic_red": 2, "monochrome": 1},
        {"leopard": 3, "solid": 3},
        "slip sheath mini_skirt crop",
    ),
    "oriental": _p(
        {"jewel": 3, "romantic_red": 2},
        {"floral": 3, "zigzag": 1, "solid": 1},
        "sheath maxi wide_trousers",
    ),
    "avantgarde": _p(
        {"monochrome": 3, "dark": 2, "neon": 1},
        {"colorblock": 3, "zigzag": 2, "solid": 2},
        "coat wide_trousers sheath",
    ),
    "hiphop": _p(
        {"primary": 2, "neon": 2, "denim": 2, "monochrome": 1},
        {"colorblock": 2, "camouflage": 2, "solid": 2},
        "tshirt wide_trousers shorts jacket",
    ),
    "punk": _p(
        {"dark": 4, "monochrome": 2},
        {"checks": 3, "leopard": 1, "stripes": 1, "solid": 1},
        "jacket mini_skirt trousers tank",
    ),
}


def profile_for(style: str) -> StyleProfile:
    """The style's profile; a style this module does not know gets a stable derived one."""
    known = STYLE_PROFILES.get(style)
    if known is not None:
        return known
    h = zlib.crc32(style.encode("utf-8"))
    palettes = sorted(PALETTES)
    return StyleProfile(
        ((palettes[h % len(palettes)], 3.0), (palettes[(h >> 8) % len(palettes)], 1.0)),
        ((PATTERNS[(h >> 16) % len(PATTERNS)], 3.0), ("solid", 1.0)),
        frozenset(),
    )


@lru_cache(maxsize=8)
def load_styles(path: Path | None = None) -> tuple[str, ...]:
    """The style names in taxonomy order, read from ``styles.json`` (``{"styles": [...]}``)."""
    data = json.loads((path or DEFAULT_STYLES_PATH).read_text(encoding="utf-8"))
    return tuple(str(name) for name in data["styles"])
