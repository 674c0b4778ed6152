"""A seeded garment renderer for tests, evaluation and the demo catalog.

A :class:`GarmentSpec` (category, shape, colours, pattern, styles, seed) fixes a product's
look; :func:`render_product_shot` draws its catalog photo (clean light background,
centred) and :func:`render_worn` a consumer-like photo of it worn by a simple figure in a
busy scene (scaled, rotated, relit, JPEG-compressed) with ground-truth boxes.
:func:`sample_spec` / :func:`sample_catalog` draw specs from the 23 styles' distributions
over palettes, patterns and shapes (so styles are learnable);
:func:`write_yolo_dataset` writes a YOLO-format detection dataset.

Example::

    specs = sample_catalog(400, seed=1)
    product = render_product_shot(specs[0])            # RenderedImage: .image, .garments
    photo = render_worn(specs[0], scene=3)             # .garments[i].box, .person
"""

from ml.synthetic.patterns import texture
from ml.synthetic.render import (
    GarmentBox,
    RenderedImage,
    WornOptions,
    render_product_shot,
    render_worn,
)
from ml.synthetic.shapes import SHAPE_CATEGORY, SHAPES, garment_geometry
from ml.synthetic.spec import GarmentSpec, derive_seed, sample_catalog, sample_spec
from ml.synthetic.styles import (
    DEFAULT_STYLES_PATH,
    PALETTES,
    PATTERNS,
    STYLE_PROFILES,
    load_styles,
    profile_for,
)
from ml.synthetic.yolo import YoloDataset, write_yolo_dataset, yolo_label_line

__all__ = [
    "DEFAULT_STYLES_PATH",
    "PALETTES",
    "PATTERNS",
    "SHAPES",
    "SHAPE_CATEGORY",
    "STYLE_PROFILES",
    "GarmentBox",
    "GarmentSpec",
    "RenderedImage",
    "WornOptions",
    "YoloDataset",
    "derive_seed",
    "garment_geometry",
    "load_styles",
    "profile_for",
    "render_product_shot",
    "render_worn",
    "sample_catalog",
    "sample_spec",
    "texture",
    "write_yolo_dataset",
    "yolo_label_line",
]
