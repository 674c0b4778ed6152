"""Detection: the full-image default, and the two-stage YOLO detector loaded from
configured weights files (built here from ultralytics' model yaml), never downloading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from ml.base import ModelLoadError
from ml.detection import (
    FullImageDetector,
    RawDetection,
    YoloDetector,
    load_class_map,
    normalise_class_name,
    person_region,
    to_image_coordinates,
)
from ml.settings import MLSettings
from ml.types import Box


def photo(width: int = 320, height: int = 200, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def settings_for(tmp_path: Path, **values: Any) -> MLSettings:
    return MLSettings(model_cache_dir=tmp_path / "cache", **values)


# --- the default ---


def test_full_image_detector_returns_the_whole_image_as_one_garment():
    detections = FullImageDetector().detect(photo(320, 200))
    assert len(detections) == 1
    assert detections[0].box == Box(0, 0, 320, 200)
    assert detections[0].category is None
    assert detections[0].kind == "garment"


def test_full_image_detector_keeps_the_client_box_and_category():
    [detection] = FullImageDetector().detect(
        photo(320, 200), box=Box(-10, 20, 150, 400), category="dress"
    )
    assert detection.box == Box(0, 20, 150, 200)  # clipped to the image, not moved
    assert detection.category == "dress"


def test_full_image_detector_refuses_an_unknown_category_and_an_outside_box():
    with pytest.raises(ValueError, match="unknown category"):
        FullImageDetector().detect(photo(), category="hat")
    with pytest.raises(ValueError, match="outside"):
        FullImageDetector().detect(photo(320, 200), box=Box(400, 300, 500, 400))


# --- coordinates ---


def test_boxes_found_in_a_crop_map_back_to_image_pixels():
    region = Box(100, 50, 300, 450)
    assert to_image_coordinates(Box(10, 20, 110, 220), region, (640, 480)) == Box(110, 70, 210, 270)
    # Past the image edge: clipped.
    assert to_image_coordinates(Box(150, 300, 400, 500), region, (640, 480)) == Box(
        250, 350, 500, 480
    )


def test_person_region_grows_the_box_and_stays_inside_the_image():
    assert person_region(Box(100, 100, 200, 300), (640, 480)) == Box(95, 90, 205, 310)
    assert person_region(Box(0, 0, 640, 480), (640, 480)) == Box(0, 0, 640, 480)


# --- class maps ---


def test_deepfashion2_classes_map_onto_the_four_categories(tmp_path):
    mapping, source = load_class_map(MLSettings(), None)
    assert mapping["long_sleeved_outwear"] == "outer"
    assert mapping["trousers"] == "bottom"
    assert mapping["sling_dress"] == "dress"
    assert mapping[normalise_class_name("Short Sleeved-Shirt")] == "top"
    assert source.endswith("#deepfashion2")


def test_a_class_map_beside_the_weights_wins(tmp_path):
    weights = tmp_path / "g.pt"
    weights.write_bytes(b"x")
    (tmp_path / "g.pt.classes.json").write_text(json.dumps({"Jacket": "outer", "Jeans": "bottom"}))
    mapping, source = load_class_map(MLSettings(), weights)
    assert mapping == {"jacket": "outer", "jeans": "bottom"}
    assert source.endswith("g.pt.classes.json")


def test_an_unknown_class_map_name_is_a_named_error():
    with pytest.raises(ModelLoadError, match="ML_GARMENT_CLASS_MAP=imaginary"):
        load_class_map(MLSettings(garment_class_map="imaginary"), None)


# --- loading ---


def test_missing_garment_weights_are_a_named_error_without_download(tmp_path, no_network):
    detector = YoloDetector(settings_for(tmp_path, garment_weights="/x/garments.pt"))
    with pytest.raises(ModelLoadError, match=r"ML_GARMENT_WEIGHTS=/x/garments.pt: file not found"):
        detector.load()
    assert no_network == []
    assert not detector.loaded


def test_a_bare_ultralytics_name_is_not_downloaded(tmp_path, no_network, monkeypatch):
    monkeypatch.chdir(tmp_path)
    detector = YoloDetector(settings_for(tmp_path, garment_weights="yolov8s.pt"))
    with pytest.raises(ModelLoadError, match=r"ML_GARMENT_WEIGHTS=yolov8s\.pt: file not found"):
        detector.load()
    assert no_network == []
    assert not (tmp_path / "yolov8s.pt").exists()


def test_corrupt_weights_are_a_named_error_without_download(tmp_path, no_network):
    corrupt = tmp_path / "garments.pt"
    corrupt.write_bytes(b"PK\x03\x04 this is not a checkpoint" * 50)
    detector = YoloDetector(settings_for(tmp_path, garment_weights=str(corrupt)))
    with pytest.raises(ModelLoadError, match=rf"ML_GARMENT_WEIGHTS={corrupt}: not a loadable"):
        detector.load()
    assert no_network == []


def test_missing_person_weights_name_their_variable(tmp_path, garment_weights, no_network):
    settings = settings_for(
        tmp_path, garment_weights=str(garment_weights), person_weights=str(tmp_path / "p.pt")
    )
    with pytest.raises(ModelLoadError, match=r"ML_PERSON_WEIGHTS=.*p\.pt: file not found"):
        YoloDetector(settings).load()
    assert no_network == []


def test_a_person_model_without_a_person_class_is_refused(tmp_path, garment_weights):
    settings = settings_for(
        tmp_path, garment_weights=str(garment_weights), person_weights=str(garment_weights)
    )
    with pytest.raises(ModelLoadError, match="no class named 'person'"):
        YoloDetector(settings).load()


def test_configured_yolo_weights_load_and_run_on_an_image(tmp_path, garment_weights, no_network):
    # Random weights find nothing at a normal threshold; a tiny one lets boxes through so
    # the mapping from the letterboxed 640 input back to the photo is exercised for real.
    settings = settings_for(tmp_path, garment_weights=str(garment_weights), garment_confidence=1e-4)
    detector = YoloDetector(settings)
    image = photo(320, 200)
    detections = detector.detect(image)
    assert detector.loaded and detector.name == "yolo" and len(detector.version) == 8
    assert detections, "a forward pass at a tiny threshold returns boxes"
    for detection in detections:
        assert detection.kind == "garment" and detection.person_index is None
        assert 0 <= detection.box.x1 < detection.box.x2 <= 320
        assert 0 <= detection.box.y1 < detection.box.y2 <= 200
        assert detection.category in ("top", "bottom", "outer", "dress")
        assert 0 < detection.score <= 1
    assert no_network == []


def test_two_stage_runs_the_person_model_then_garments_inside_each_person(
    tmp_path, garment_weights, person_weights, no_network
):
    settings = settings_for(
        tmp_path,
        garment_weights=str(garment_weights),
        person_weights=str(person_weights),
        person_confidence=1e-4,
        garment_confidence=1e-4,
        max_people=2,
    )
    detector = YoloDetector(settings)
    detections = detector.detect(photo(400, 300))  # real forward passes through both models
    assert detector.name == "yolo-two-stage"
    people = [d for d in detections if d.kind == "person"]
    garments = [d for d in detections if d.kind == "garment"]
    assert 1 <= len(people) <= 2
    for garment in garments:
        assert garment.person_index is not None
        owner = person_region(people[garment.person_index].box, (400, 300))
        assert owner.x1 <= garment.box.x1 < garment.box.x2 <= owner.x2
        assert owner.y1 <= garment.box.y1 < garment.box.y2 <= owner.y2
    assert no_network == []


class ScriptedYolo(YoloDetector):
    """The real detector with the ultralytics call replaced by known outputs, to check
    what is done with them (an untrained model's boxes are noise)."""

    def __init__(
        self, settings: MLSettings, people: list[RawDetection], garments: list[RawDetection]
    ):
        super().__init__(settings)
        self.people = people
        self.garments = garments
        self.calls: list[tuple[str, tuple[int, int]]] = []

    def _predict(self, model: Any, image: Image.Image, *, confidence: float) -> list[RawDetection]:
        which = "person" if model is self._person else "garment"
        self.calls.append((which, image.size))
        return self.people if which == "person" else self.garments


def test_garments_found_in_a_person_crop_come_back_in_image_coordinates(
    tmp_path, garment_weights, person_weights
):
    settings = settings_for(
        tmp_path, garment_weights=str(garment_weights), person_weights=str(person_weights)
    )
    person = RawDetection(Box(200, 100, 400, 500), 0.9, 0)  # class 0: person
    car = RawDetection(Box(0, 0, 50, 50), 0.99, 1)
    jacket = RawDetection(Box(30, 50, 190, 250), 0.8, 3)  # long_sleeved_outwear, in the crop
    detector = ScriptedYolo(settings, [person, car], [jacket])
    detections = detector.detect(photo(640, 600))
    region = person_region(person.box, (640, 600))  # (190, 80)-(410, 520)
    assert detector.calls == [("person", (640, 600)), ("garment", (220, 440))]
    [found_person, garment] = detections
    assert found_person.kind == "person" and found_person.box == Box(200, 100, 400, 500)
    assert garment.box == Box(30 + region.x1, 50 + region.y1, 190 + region.x1, 250 + region.y1)
    assert (garment.label, garment.category, garment.person_index) == (
        "long_sleeved_outwear",
        "outer",
        0,
    )


def test_a_photo_without_people_runs_the_garment_model_on_the_whole_image(
    tmp_path, garment_weights, person_weights
):
    settings = settings_for(
        tmp_path, garment_weights=str(garment_weights), person_weights=str(person_weights)
    )
    skirt = RawDetection(Box(40, 60, 200, 180), 0.7, 8)
    detector = ScriptedYolo(settings, [], [skirt])
    [garment] = detector.detect(photo(320, 200))
    assert detector.calls == [("person", (320, 200)), ("garment", (320, 200))]
    assert garment.box == Box(40, 60, 200, 180)
    assert (garment.category, garment.person_index) == ("bottom", None)


def test_a_garment_seen_in_two_overlapping_people_is_reported_once(
    tmp_path, garment_weights, person_weights
):
    settings = settings_for(
        tmp_path, garment_weights=str(garment_weights), person_weights=str(person_weights)
    )
    people = [
        RawDetection(Box(100, 0, 300, 400), 0.9, 0),
        RawDetection(Box(100, 0, 300, 400), 0.8, 0),
    ]
    shirt = RawDetection(Box(10, 10, 150, 200), 0.6, 0)
    detections = ScriptedYolo(settings, people, [shirt]).detect(photo(400, 400))
    assert [d.kind for d in detections] == ["person", "person", "garment"]


def test_a_client_box_skips_detection(tmp_path, garment_weights, person_weights):
    settings = settings_for(
        tmp_path, garment_weights=str(garment_weights), person_weights=str(person_weights)
    )
    detector = ScriptedYolo(settings, [], [])
    [garment] = detector.detect(photo(320, 200), box=Box(10, 20, 110, 180), category="top")
    assert detector.calls == []
    assert (garment.box, garment.category, garment.score) == (Box(10, 20, 110, 180), "top", 1.0)


@pytest.mark.slow
def test_onnx_runtime_exports_the_configured_weights_into_the_cache(
    tmp_path, garment_weights, no_network
):
    settings = settings_for(
        tmp_path, garment_weights=str(garment_weights), runtime="onnx", garment_confidence=1e-4
    )
    detector = YoloDetector(settings)
    detections = detector.detect(photo(320, 200))
    assert list((tmp_path / "cache" / "yolo").glob("*.onnx"))
    assert detector.version.endswith("-onnx")
    assert all(0 <= d.box.x1 < d.box.x2 <= 320 for d in detections)
    assert no_network == []  # the export installs and fetches nothing


def test_people_too_small_to_hold_a_garment_are_ignored(tmp_path, garment_weights, monkeypatch):
    """A degenerate person box (an untrained or confused model) never reaches the garment
    model as an empty crop."""
    from ml import detection as module
    from ml.types import Box

    settings = settings_for(
        tmp_path, garment_weights=str(garment_weights), person_weights=str(garment_weights)
    )
    detector = YoloDetector(settings)
    detector._person = object()  # loaded stand-in; its predictions are given below
    detector._person_ids = {0}
    detector._loaded = True
    image = Image.new("RGB", (200, 300), (240, 240, 240))
    seen_regions = []

    def predict(model, picture, *, confidence):
        if model is detector._person:
            return [module.RawDetection(Box(10.2, 10.2, 10.6, 10.9), 0.9, 0)]
        seen_regions.append(picture.size)
        return []

    monkeypatch.setattr(detector, "_predict", predict)
    found = detector.detect(image)

    assert [d for d in found if d.kind == "person"] == []
    assert seen_regions == [(200, 300)]  # the whole image, as for a photo with no person
