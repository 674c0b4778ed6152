"""The default encoder: deterministic unit vectors that rank garments by look."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from ml.descriptor import (
    DIM,
    DescriptorEncoder,
    describe_blocks,
    foreground_mask,
    plain_background_mask,
    to_rgb_array,
)

RED = (200, 30, 35)
BLUE = (30, 60, 190)
BED = (214, 200, 178)
FLOOR = (95, 95, 100)


def _background(size: tuple[int, int], colour: tuple[int, int, int], *, wood: bool) -> Image.Image:
    image = Image.new("RGB", size, colour)
    if wood:  # floorboards: darker seams and a grain
        draw = ImageDraw.Draw(image)
        for y in range(0, size[1], 23):
            draw.rectangle((0, y, size[0], y + 2), fill=tuple(max(0, c - 45) for c in colour))
        for x in range(0, size[0], 9):
            draw.line((x, 0, x + 30, size[1]), fill=tuple(max(0, c - 15) for c in colour))
    return image


def _shirt(
    colour: tuple[int, int, int],
    background: tuple[int, int, int],
    *,
    size: tuple[int, int] = (300, 400),
    offset: tuple[int, int] = (0, 0),
    scale: float = 1.0,
    wood: bool = False,
    stripes: bool = True,
) -> Image.Image:
    """A long-sleeved shirt laid flat, with white stripes across it."""
    image = _background(size, background, wood=wood)
    draw = ImageDraw.Draw(image)
    cx, cy = size[0] / 2 + offset[0], size[1] / 2 + offset[1]

    def p(x: float, y: float) -> tuple[float, float]:
        return (cx + x * scale, cy + y * scale)

    body = [p(-70, -130), p(70, -130), p(135, 40), p(110, 50), p(65, -50), p(65, 140), p(-65, 140)]
    body += [p(-65, -50), p(-110, 50), p(-135, 40)]
    draw.polygon(body, fill=colour)
    if stripes:
        for y in range(-110, 140, 30):
            draw.rectangle((*p(-64, y), *p(64, y + 6)), fill=(240, 240, 240))
    draw.polygon([p(-20, -130), p(0, -105), p(20, -130)], fill=background)  # the neckline
    return image


def _pants(colour: tuple[int, int, int], background: tuple[int, int, int]) -> Image.Image:
    image = _background((300, 400), background, wood=False)
    draw = ImageDraw.Draw(image)
    draw.polygon(
        [(95, 40), (205, 40), (225, 370), (165, 370), (150, 150), (135, 370), (75, 370)],
        fill=colour,
    )
    return image


@pytest.fixture(scope="module")
def encoder() -> DescriptorEncoder:
    return DescriptorEncoder()


def _cos(encoder: DescriptorEncoder, a: Image.Image, b: Image.Image) -> float:
    va, vb = encoder.encode_array([a, b])
    return float(va @ vb)


def test_the_same_image_always_gives_the_same_vector(encoder: DescriptorEncoder) -> None:
    image = _shirt(RED, BED)
    first = encoder.encode_array([image])
    again = DescriptorEncoder().encode_array([image.copy()])
    assert np.array_equal(first, again)


def test_vectors_are_float32_of_the_documented_dimension_and_unit_norm(
    encoder: DescriptorEncoder,
) -> None:
    vectors = encoder.encode_array([_shirt(RED, BED), _pants(BLUE, FLOOR)])
    assert vectors.dtype == np.float32
    assert vectors.shape == (2, DIM) == (2, encoder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_batch_gives_the_same_vectors_as_one_image_at_a_time(
    encoder: DescriptorEncoder,
) -> None:
    images = [_shirt(RED, BED), _pants(BLUE, FLOOR), _shirt(BLUE, FLOOR, wood=True)]
    batch = encoder.encode_array(images)
    single = np.concatenate([encoder.encode_array([image]) for image in images])
    assert np.array_equal(batch, single)


def test_a_red_shirt_on_another_background_ranks_above_a_blue_shirt(
    encoder: DescriptorEncoder,
) -> None:
    query = _shirt(RED, FLOOR, offset=(15, -10), scale=0.9)
    same_shirt = _shirt(RED, BED)
    blue_shirt = _shirt(BLUE, FLOOR)  # on the query's own background
    vectors = encoder.encode_array([query, same_shirt, blue_shirt])
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_one_garment_on_two_plain_backgrounds_stays_closer_than_two_garments(
    encoder: DescriptorEncoder,
) -> None:
    on_bed = _shirt(RED, BED, stripes=False)
    on_floor = _shirt(RED, FLOOR, stripes=False)
    other_on_bed = _pants(BLUE, BED)
    assert _cos(encoder, on_bed, on_floor) > _cos(encoder, on_bed, other_on_bed) + 0.1


def test_a_wooden_floor_does_not_pull_a_garment_towards_another_on_the_floor(
    encoder: DescriptorEncoder,
) -> None:
    on_wood = _shirt(RED, (150, 105, 60), wood=True)
    on_bed = _shirt(RED, BED)
    pants_on_wood = _pants(BLUE, (150, 105, 60))
    assert _cos(encoder, on_wood, on_bed) > _cos(encoder, on_wood, pants_on_wood)


def test_pants_rank_pants_above_a_top_of_the_same_colour(encoder: DescriptorEncoder) -> None:
    query = _pants(BLUE, BED)
    other_pants = _pants(BLUE, FLOOR)
    top = _shirt(BLUE, BED, stripes=False)
    assert _cos(encoder, query, other_pants) > _cos(encoder, query, top)


def test_the_mask_covers_the_garment_and_leaves_the_bed_out() -> None:
    image = _shirt(RED, BED, stripes=False, size=(96, 128), scale=0.3)
    truth = np.abs(np.asarray(image).astype(int) - RED).sum(axis=2) < 30
    lab = cv2.cvtColor(to_rgb_array(image), cv2.COLOR_RGB2Lab)
    mask = foreground_mask(lab).astype(bool)
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.85


def _on_backdrop(image: Image.Image, top: int, bottom: int) -> Image.Image:
    """``image``'s pixels that are not the backdrop colour, over a studio sweep that darkens
    from ``top`` to ``bottom`` (grey levels)."""
    rgb = np.asarray(image).astype(np.float32)
    h = rgb.shape[0]
    sweep = np.linspace(top, bottom, h, dtype=np.float32)[:, None, None] * np.ones_like(rgb)
    garment = np.abs(rgb - rgb[0, 0]).sum(axis=2, keepdims=True) > 0
    return Image.fromarray(np.where(garment, rgb, sweep).astype(np.uint8))


def test_a_white_shirt_on_a_light_studio_backdrop_keeps_its_white_parts() -> None:
    white = (251, 251, 250)
    flat = _shirt(white, (0, 0, 0), stripes=False, size=(96, 128), scale=0.3)
    truth = np.abs(np.asarray(flat).astype(int) - white).sum(axis=2) < 10
    image = _on_backdrop(flat, 240, 230)
    lab = cv2.cvtColor(to_rgb_array(image), cv2.COLOR_RGB2Lab)
    plain = plain_background_mask(lab)
    assert plain is not None
    mask = foreground_mask(lab).astype(bool)
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.9


def test_a_busy_edge_is_not_taken_for_a_plain_backdrop() -> None:
    image = _shirt(RED, BED, wood=True, size=(96, 128), scale=0.3)
    assert plain_background_mask(cv2.cvtColor(to_rgb_array(image), cv2.COLOR_RGB2Lab)) is None


def _cast(image: Image.Image, gains: tuple[float, float, float]) -> Image.Image:
    rgb = np.asarray(image).astype(np.float32) * np.asarray(gains, dtype=np.float32)
    return Image.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8))


def _block_cos(a: Image.Image, b: Image.Image, block: str) -> float:
    va, vb = describe_blocks(a)[block], describe_blocks(b)[block]
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))


def test_a_colour_cast_leaves_the_colour_relations_and_moves_the_colours() -> None:
    shirt = _shirt(RED, BED)
    warm = _cast(shirt, (1.12, 0.93, 0.82))
    assert _block_cos(shirt, warm, "relative") > 0.97
    assert _block_cos(shirt, warm, "lab") < _block_cos(shirt, warm, "relative") - 0.05


def test_a_colour_cast_photo_finds_its_striped_shirt_above_the_plain_one(
    encoder: DescriptorEncoder,
) -> None:
    striped, plain = _shirt(RED, BED), _shirt(RED, BED, stripes=False)
    photo = _cast(_shirt(RED, FLOOR, wood=True, offset=(12, -8), scale=0.85), (1.1, 0.9, 0.88))
    assert _cos(encoder, photo, striped) > _cos(encoder, photo, plain)


@pytest.mark.parametrize(
    "image",
    [
        Image.new("L", (120, 90), 80),
        Image.new("RGBA", (64, 64), (255, 0, 0, 0)),
        Image.new("P", (40, 70), 3),
        Image.new("CMYK", (50, 50), (0, 100, 100, 0)),
        Image.new("I;16", (33, 47), 40000),
        Image.new("1", (20, 20), 1),
        Image.new("RGB", (1, 1), (10, 200, 10)),
        Image.new("RGB", (3, 500), (10, 200, 10)),
        Image.new("RGB", (777, 5), (10, 200, 10)),
        Image.new("RGB", (7, 7), (0, 0, 0)),
    ],
    ids=[
        "grey",
        "transparent",
        "palette",
        "cmyk",
        "16-bit",
        "1-bit",
        "1x1",
        "3x500",
        "777x5",
        "black",
    ],
)
def test_any_mode_and_size_encodes_to_a_finite_unit_vector(
    encoder: DescriptorEncoder, image: Image.Image
) -> None:
    vector = encoder.encode_array([image])[0]
    assert np.all(np.isfinite(vector))
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_embeddings_record_the_encoder_name_and_version(encoder: DescriptorEncoder) -> None:
    (embedding,) = encoder.encode([_shirt(RED, BED)])
    assert embedding.encoder_id == encoder.encoder_id == f"descriptor@{encoder.version}"
    assert embedding.dim == DIM
    assert encoder.is_default


def test_an_empty_batch_gives_no_rows(encoder: DescriptorEncoder) -> None:
    assert encoder.encode_array([]).shape == (0, DIM)
