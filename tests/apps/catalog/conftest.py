"""Rows, tiny images and a stand-in analyser for the catalog's tests."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import factory
import numpy as np
import pytest
from PIL import Image

from apps.accounts.models import User
from apps.catalog import services
from apps.catalog.models import Product, Shop
from ml.types import Box, Detection, Embedding


def image_bytes(
    colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 48), fmt: str = "PNG"
) -> bytes:
    """A small image: a coloured garment-like block on a light background."""
    picture = Image.new("RGB", size, (240, 240, 240))
    w, h = size
    picture.paste(colour, (w // 4, h // 6, 3 * w // 4, 5 * h // 6))
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt)
    return buffer.getvalue()


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Shop {n}")
    kind = Shop.Kind.MALL


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    shop = factory.SubFactory(ShopFactory)
    external_id = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    brand = "Acme"
    price = Decimal("39000")
    category = "top"

    @factory.post_generation
    def style_tags(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.style_tags.set(extracted)


class ColourAnalyser:
    """Stands in for the ml pipeline: the whole image is one garment of the given category.

    Its embedding is the image's mean colour (L2-normalised), a real if crude descriptor,
    so similar images get similar vectors. It counts its calls.
    """

    def __init__(
        self, detections: Callable[[Image.Image, str | None], list[Detection]] | None = None
    ):
        self.calls = 0
        self._detections = detections

    def __call__(self, data: bytes, *, category: str | None) -> list[services.AnalysedGarment]:
        self.calls += 1
        picture = Image.open(io.BytesIO(data)).convert("RGB")
        if self._detections:
            found = self._detections(picture, category)
        else:
            w, h = picture.size
            found = [
                Detection(
                    Box(0, 0, w, h), label=category or "garment", category=category, score=1.0
                )
            ]
        out = []
        for detection in found:
            crop = picture.crop(detection.box.as_int_tuple())
            vector = np.asarray(crop, dtype=np.float32).reshape(-1, 3).mean(axis=0) + 1.0
            embedding = Embedding.from_numpy(
                vector / np.linalg.norm(vector), encoder="mean-colour", version="1"
            )
            out.append(services.AnalysedGarment(detection=detection, embedding=embedding))
        return out


@pytest.fixture
def analyser(settings: Any) -> Iterator[ColourAnalyser]:
    """The analyser every image processing in the test uses (wired like the real one)."""
    instance = ColourAnalyser()
    settings.CATALOG_IMAGE_ANALYSER = "tests.apps.catalog.conftest.current_analyser"
    global _current
    _current = instance
    yield instance
    _current = None


_current: ColourAnalyser | None = None


def current_analyser(data: bytes, *, category: str | None) -> list[services.AnalysedGarment]:
    assert _current is not None
    return _current(data, category=category)


@pytest.fixture
def sent_tasks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[Any]]]:
    """Tasks sent to the broker (recorded, not run)."""
    from worker.celery import app

    sent: list[tuple[str, list[Any]]] = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args=None, **kw: sent.append((name, list(args or [])))
    )
    return sent


@pytest.fixture
def worker_runs_tasks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[Any]]]:
    """Tasks sent to the broker run at once, as a worker would run them."""
    from worker.celery import app

    ran: list[tuple[str, list[Any]]] = []

    def run(name: str, args: Any = None, **kw: Any) -> None:
        ran.append((name, list(args or [])))
        result = app.tasks[name].apply(args=list(args or []))
        result.get()  # re-raises what the task raised

    monkeypatch.setattr(app, "send_task", run)
    return ran


@pytest.fixture
def staff_client(client: Any, db: None) -> Any:
    curator = User.objects.create_user(
        email="curator@example.com", password="pw-curator-123", is_staff=True, is_superuser=True
    )
    client.force_login(curator)
    return client


@pytest.fixture(autouse=True)
def _styles_present(db: None) -> None:
    """A test that flushed the database (transaction=True) took the seeded styles with it."""
    services.style_rows_ensure()
