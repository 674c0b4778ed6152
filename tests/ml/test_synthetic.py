"""The synthetic garment renderer: seeded, boxed, every shape and print, learnable styles."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

from ml.synthetic import (
    PATTERNS,
    SHAPES,
    STYLE_PROFILES,
    GarmentSpec,
    WornOptions,
    load_styles,
    render_product_shot,
    render_worn,
    sample_catalog,
    sample_spec,
    write_yolo_dataset,
)
from ml.types import CATEGORIES

MAGENTA = (255, 0, 255)
PLAIN = WornOptions(clutter=False, relight=False, jpeg_quality=None)


def _magenta(image: np.ndarray) -> np.ndarray:
    """Pixels of a (shaded) pure magenta garment: red and blue equal and high, no green."""
    r, g, b = (image[..., i].astype(np.int16) for i in range(3))
    return (g < 40) & (r > 110) & (b > 110) & (np.abs(r - b) < 25)


def _pixels_near(image: np.ndarray, colour: tuple[int, int, int], tol: float) -> np.ndarray:
    diff = image.astype(np.float32) - np.asarray(colour, dtype=np.float32)
    return np.sqrt((diff**2).sum(axis=-1)) < tol


def test_same_spec_and_seed_render_the_same_pixels() -> None:
    spec = sample_spec(1234)
    again = sample_spec(1234)
    assert spec == again
    for render in (
        lambda: render_product_shot(spec),
        lambda: render_worn(spec, scene=5),
    ):
        first, second = render(), render()
        assert np.array_equal(np.asarray(first.image), np.asarray(second.image))
        assert first.garments == second.garments
        assert first.person == second.person


def test_other_scenes_and_products_look_different() -> None:
    spec = sample_spec(99)
    a = np.asarray(render_worn(spec, scene=0).image)
    b = np.asarray(render_worn(spec, scene=1).image)
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 10
    other = sample_spec(100)
    assert other != spec
    pa = np.asarray(render_product_shot(spec).image)
    pb = np.asarray(render_product_shot(other).image)
    assert not np.array_equal(pa, pb)


@pytest.mark.parametrize("category", CATEGORIES)
def test_worn_boxes_enclose_every_garment_pixel_and_fit_tightly(category: str) -> None:
    for shape in SHAPES[category]:  # type: ignore[index]
        spec = GarmentSpec(category, shape, (MAGENTA,), "solid", ("modern",), seed=7)  # type: ignore[arg-type]
        for scene in range(4):
            rendered = render_worn(spec, scene=scene, options=PLAIN)
            target = rendered.target
            assert target is not None, (shape, scene)
            image = np.asarray(rendered.image)
            ys, xs = np.nonzero(_magenta(image))
            assert len(xs) > 200, (shape, scene)
            box = target.box
            # every garment pixel inside its box ...
            assert xs.min() >= box.x1 - 1 and xs.max() <= box.x2
            assert ys.min() >= box.y1 - 1 and ys.max() <= box.y2
            # ... and the box no bigger than the garment (anti-aliased edges aside)
            assert xs.min() - box.x1 <= 3 and box.x2 - xs.max() <= 4
            assert ys.min() - box.y1 <= 3 and box.y2 - ys.max() <= 4
            person = rendered.person
            assert person is not None
            for garment in rendered.garments:
                assert person.x1 <= garment.box.x1 and garment.box.x2 <= person.x2
                assert person.y1 <= garment.box.y1 and garment.box.y2 <= person.y2
            assert person.height > box.height  # the head and feet are outside a garment


def test_product_shot_box_encloses_the_garment_on_a_light_background() -> None:
    spec = GarmentSpec("dress", "maxi", (MAGENTA,), "solid", ("resort",), seed=3)
    rendered = render_product_shot(spec)
    image = np.asarray(rendered.image)
    ys, xs = np.nonzero(_magenta(image))
    box = rendered.garments[0].box
    assert rendered.person is None
    assert xs.min() >= box.x1 - 1 and xs.max() <= box.x2 and xs.min() - box.x1 <= 3
    assert ys.min() >= box.y1 - 1 and ys.max() <= box.y2 and ys.min() - box.y1 <= 3
    # centred, filling most of the frame
    assert abs((box.x1 + box.x2) / 2 - 128) < 4 and abs((box.y1 + box.y2) / 2 - 128) < 4
    assert max(box.width, box.height) > 0.8 * 256
    corners = image[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert corners.min() > 200  # a clean light background


def test_worn_scene_has_the_rest_of_the_outfit_with_its_own_boxes() -> None:
    top = sample_spec(5, category="top")
    rendered = render_worn(top, scene=2)
    categories = Counter(g.category for g in rendered.garments)
    assert categories["top"] == 1 and categories["bottom"] == 1
    assert sum(g.is_target for g in rendered.garments) == 1
    outer = render_worn(sample_spec(6, category="outer"), scene=0)
    assert {g.category for g in outer.garments} >= {"outer", "bottom"}
    alone = render_worn(top, scene=2, options=WornOptions(companions=False))
    assert [g.category for g in alone.garments] == ["top"]


def test_every_shape_and_pattern_renders_visibly() -> None:
    colours = ((200, 30, 40), (30, 60, 200), (240, 220, 40))
    for category, shapes in SHAPES.items():
        for shape in shapes:
            for pattern in PATTERNS:
                spec = GarmentSpec(category, shape, colours, pattern, ("kitsch",), seed=11)
                rendered = render_product_shot(spec, size=128)
                image = np.asarray(rendered.image).astype(np.int16)
                box = rendered.garments[0].box
                assert max(box.width, box.height) > 0.8 * 128, (shape, pattern)
                x1, y1, x2, y2 = box.as_int_tuple()
                inside = image[y1:y2, x1:x2].reshape(-1, 3)
                reds = _pixels_near(inside, colours[0], 70).mean()
                others = (
                    _pixels_near(inside, colours[1], 70) | _pixels_near(inside, colours[2], 70)
                ).mean()
                assert reds > 0.05, (shape, pattern)
                if pattern == "solid":
                    assert others < 0.02, (shape, pattern)
                else:  # the print shows its second colours
                    assert others > 0.03, (shape, pattern)


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_renders_worn_with_a_target_box(category: str) -> None:
    for i, spec in enumerate(sample_catalog(6, seed=42, categories=(category,))):  # type: ignore[arg-type]
        assert spec.category == category and spec.shape in SHAPES[spec.category]
        rendered = render_worn(spec, scene=i)
        assert rendered.image.size == (256, 256) and rendered.image.mode == "RGB"
        target = rendered.target
        assert target is not None and target.category == category
        assert target.box.area > 300


def test_the_23_taxonomy_styles_each_have_a_profile() -> None:
    styles = load_styles()
    assert len(styles) == 23
    assert set(styles) == set(STYLE_PROFILES)


def test_styles_are_learnable_from_the_look_but_overlap() -> None:
    styles = load_styles()
    specs = [sample_spec(i, styles=styles) for i in range(4000)]
    shapes = sorted({s for group in SHAPES.values() for s in group})

    def features(spec: GarmentSpec) -> np.ndarray:
        pattern = np.eye(len(PATTERNS))[PATTERNS.index(spec.pattern)]
        shape = np.eye(len(shapes))[shapes.index(spec.shape)] * 0.5
        colours = np.asarray(spec.colours[:3], dtype=np.float64).reshape(-1) / 255.0
        return np.concatenate([pattern, shape, colours])

    x = np.stack([features(s) for s in specs])
    y = np.array([styles.index(s.styles[0]) for s in specs])
    train, test = slice(0, 3000), slice(3000, None)
    centroids = np.stack([x[train][y[train] == k].mean(axis=0) for k in range(len(styles))])
    dist = ((x[test][:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    accuracy = float((dist.argmin(axis=1) == y[test]).mean())
    assert accuracy > 4 / len(styles)  # far better than chance (1/23) ...
    assert accuracy < 0.95  # ... but styles overlap
    assert sum(len(s.styles) == 2 for s in specs) > 400  # multi-label garments exist


def test_a_shape_from_another_category_is_refused() -> None:
    with pytest.raises(ValueError, match="not a 'top'"):
        GarmentSpec("top", "skirt", (MAGENTA,), "solid", (), seed=1)
    with pytest.raises(ValueError, match="unknown pattern"):
        GarmentSpec("top", "tshirt", (MAGENTA,), "paisley", (), seed=1)


def test_styles_can_be_passed_as_a_list() -> None:
    spec = sample_spec(3, styles=["minimal", "grunge"])
    assert spec.styles[0] in {"minimal", "grunge"}
    render_product_shot(spec, size=64)


def test_yolo_writer_produces_a_dataset_ultralytics_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ultralytics.data import utils as yolo_utils

    # check_det_dataset fetches a font for plots when it is missing: no downloads here.
    monkeypatch.setattr(yolo_utils, "check_font", lambda *a, **k: None)
    dataset = write_yolo_dataset(tmp_path / "ds", n_train=10, n_val=4, seed=3, size=160)

    meta = yaml.safe_load(dataset.data_yaml.read_text())
    assert meta["names"] == {0: "top", 1: "bottom", 2: "outer", 3: "dress"}
    data = yolo_utils.check_det_dataset(str(dataset.data_yaml), autodownload=False)
    assert data["nc"] == 4 and Path(data["train"]).is_dir() and Path(data["val"]).is_dir()

    for split, count in (("train", 10), ("val", 4)):
        images = sorted((tmp_path / "ds" / "images" / split).glob("*.jpg"))
        assert len(images) == count
        for image in images:
            label = tmp_path / "ds" / "labels" / split / f"{image.stem}.txt"
            rows = [line.split() for line in label.read_text().splitlines() if line]
            assert rows, image
            for row in rows:
                assert len(row) == 5 and 0 <= int(row[0]) < 4
                values = [float(v) for v in row[1:]]
                assert all(0.0 <= v <= 1.0 for v in values) and values[2] > 0 and values[3] > 0
            result = yolo_utils.verify_image_label(
                (str(image), str(label), "", False, 4, 0, 0, False)
            )
            assert result[0] is not None, result[-1]
            lb, shape, n_corrupt = result[1], result[2], result[8]
            assert n_corrupt == 0 and shape == (160, 160) and lb.shape == (len(rows), 5)


def test_yolo_writer_can_label_people_too(tmp_path: Path) -> None:
    dataset = write_yolo_dataset(
        tmp_path, n_train=4, n_val=1, seed=1, size=128, product_fraction=0.0, include_person=True
    )
    assert dataset.names[-1] == "person"
    classes = [
        int(line.split()[0])
        for label in (tmp_path / "labels" / "train").glob("*.txt")
        for line in label.read_text().splitlines()
    ]
    assert classes.count(4) == 4
