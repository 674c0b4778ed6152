"""python manage.py e2e_real_photos: the service end to end on real photos, through HTTP.

Needs a running server with its worker (``make run``, or gunicorn + celery) on the same
database, media and index folder as this command. It

1. imports a catalog from ``clothing-small/train`` (through the catalog import; the photos'
   classes mapped onto the four categories, hat and shoes left out), encodes the images
   here and builds the indexes;
2. signs up a user over HTTP and fills the closet with ``clothing-small/validation``
   photos plus a few of the catalog's own photos (products the user therefore owns);
3. searches over HTTP with photos the closet does not hold: validation photos (one garment,
   the whole photo) and ``street-photos`` (one query per garment the tags list, with a
   client box: see STREET_BOXES), sending no category, so the service decides it;
4. reports the category precision@k of the recommendations (share of the top k in the
   query garment's category) and the share of garments whose category the service got
   right, and checks that no owned product comes back (every product an
   ``include_owned=true`` answer marks owned must be missing from the default answers).
"""

from __future__ import annotations

import csv
import json
import secrets
import tempfile
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from PIL import Image

from apps.catalog import services as catalog_services
from apps.catalog.imports import catalog_import
from apps.catalog.models import ProcessingStatus, ProductImage
from ml.evaluation import CLOTHING_SMALL_CATEGORIES, IMAGE_SUFFIXES

SHOPS = ("Real Closet Mall", "Real Street Store")

# street-photos tags (Clothing Co-Parsing labels) → category; ambiguous ones (vest, suit,
# cardigan, romper, tights, stockings) and accessories are left out.
STREET_TAGS = {
    "t-shirt": "top",
    "shirt": "top",
    "blouse": "top",
    "top": "top",
    "sweater": "top",
    "jumper": "top",
    "sweatshirt": "top",
    "pants": "bottom",
    "jeans": "bottom",
    "shorts": "bottom",
    "skirt": "bottom",
    "leggings": "bottom",
    "coat": "outer",
    "jacket": "outer",
    "blazer": "outer",
    "cape": "outer",
    "dress": "dress",
}

# No detector weights: the tags say which garments a street photo shows, not where. The
# photos are full-body shots of one standing person, so each category gets a fixed client
# box as a share of the photo (x1, y1, x2, y2): a crude stand-in for a detector.
STREET_BOXES = {
    "top": (0.20, 0.15, 0.80, 0.50),
    "outer": (0.15, 0.15, 0.85, 0.60),
    "bottom": (0.20, 0.45, 0.80, 0.85),
    "dress": (0.20, 0.15, 0.80, 0.80),
}


@dataclass
class Tally:
    queries: int = 0
    failed: int = 0
    category_right: int = 0
    precision_sum: float = 0.0
    answered: int = 0
    by_category: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    guessed_by_category: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, *, truth: str, guessed: str, precision: float | None) -> None:
        self.queries += 1
        self.category_right += guessed == truth
        self.guessed_by_category[truth].append(int(guessed == truth))
        if precision is not None:
            self.answered += 1
            self.precision_sum += precision
            self.by_category[truth].append(precision)

    def lines(self, title: str, k: int) -> list[str]:
        if not self.queries:
            return [f"{title}: no queries"]
        per = ", ".join(
            f"{c} {sum(v) / len(v):.3f} (n={len(v)})" for c, v in sorted(self.by_category.items())
        )
        guessed = ", ".join(
            f"{c} {sum(v) / len(v):.3f}" for c, v in sorted(self.guessed_by_category.items())
        )
        precision = self.precision_sum / self.answered if self.answered else 0.0
        return [
            f"{title}: {self.queries} garment queries ({self.failed} failed), "
            f"category precision@{k} = {precision:.3f}, "
            f"category right = {self.category_right / self.queries:.3f}",
            f"  precision@{k} by true category: {per}",
            f"  category right by true category: {guessed}",
        ]


class Client:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.refresh = ""

    def sign_in(self, email: str, password: str) -> None:
        body = {"email": email, "password": password}
        for action in ("login", "signup"):
            r = self.http.post(f"{self.base}/_allauth/app/v1/auth/{action}", json=body, timeout=30)
            meta = r.json().get("meta", {}) if r.content else {}
            if meta.get("access_token"):
                self.http.headers["Authorization"] = f"Bearer {meta['access_token']}"
                self.refresh = meta["refresh_token"]
                return
        raise CommandError(f"Could not sign in or sign up {email}: {r.status_code} {r.text}")

    def _refresh(self) -> None:
        r = self.http.post(
            f"{self.base}/_allauth/app/v1/tokens/refresh",
            json={"refresh_token": self.refresh},
            timeout=30,
        )
        r.raise_for_status()
        data = r.json()["data"]
        self.http.headers["Authorization"] = f"Bearer {data['access_token']}"
        self.refresh = data["refresh_token"]

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        refreshed = False
        for _ in range(10):  # a throttled wait can outlast the access token: both may come
            r = self.http.request(method, f"{self.base}/api/v1{path}", timeout=60, **kwargs)
            if r.status_code == 401 and not refreshed:  # the access token lives 5 minutes
                self._refresh()
                refreshed = True
                continue
            if r.status_code == 429:
                time.sleep(float(r.json()["error"]["details"].get("retry_after", 5)))
                continue
            return r
        return r

    def poll(self, path: str, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body: dict[str, Any] = self.call("GET", path).json()
            if body["status"] in ("ready", "failed") or time.monotonic() > deadline:
                return body
            time.sleep(0.5)


def class_photos(folder: Path, per_class: int, skip: int = 0) -> list[tuple[Path, str, str]]:
    """(path, class, category) for ``per_class`` photos of each mapped class, in name order."""
    chosen = []
    for label, category in sorted(CLOTHING_SMALL_CATEGORIES.items()):
        files = sorted(p for p in (folder / label).glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        chosen.extend((p, label, category) for p in files[skip : skip + per_class])
    return chosen


class Command(BaseCommand):
    help = (
        "End to end on real photos (../shared/data): a catalog from clothing-small/train, a "
        "closet from clothing-small/validation, searches with validation and street photos "
        "over HTTP; reports category precision@k and checks that owned products stay out."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--data",
            type=Path,
            default=Path(settings.BASE_DIR).parent / "shared" / "data",
            help="The shared data folder (default: ../shared/data next to the project).",
        )
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--catalog-per-class", type=int, default=40, help="8 classes")
        parser.add_argument("--closet-per-class", type=int, default=3)
        parser.add_argument("--owned-from-catalog", type=int, default=8)
        parser.add_argument("--queries-per-class", type=int, default=10)
        parser.add_argument("--street", type=int, default=60, help="street photos to query")
        parser.add_argument("--k", type=int, default=5)
        parser.add_argument("--email", default="real-photos@example.com")
        parser.add_argument("--json", type=Path, help="Write the figures here too.")

    def handle(self, *args: Any, **o: Any) -> None:
        data: Path = o["data"]
        train = data / "clothing-small" / "train"
        validation = data / "clothing-small" / "validation"
        street = data / "street-photos"
        if not (train.is_dir() and validation.is_dir() and street.is_dir()):
            raise CommandError(f"The real photos are not at {data} (see --data).")
        client = Client(o["base_url"])
        try:
            client.http.get(f"{client.base}/api/v1/health", timeout=10)
        except requests.RequestException as exc:
            raise CommandError(f"No server at {client.base}: start `make run` first.") from exc
        k = o["k"]
        started = time.monotonic()

        catalog = class_photos(train, o["catalog_per_class"])
        self.stdout.write(f"catalog: importing {len(catalog)} photos")
        self._import(catalog)

        password = "real-photos-" + secrets.token_hex(8)
        email = o["email"].replace("@", f"+{secrets.token_hex(3)}@")
        client.sign_in(email, password)
        closet = class_photos(validation, o["closet_per_class"])
        owned_photos = catalog[:: max(1, len(catalog) // max(1, o["owned_from_catalog"]))][
            : o["owned_from_catalog"]
        ]
        closet_items = 0
        closet_failed: list[str] = []
        for path, _label, category in [*closet, *owned_photos]:
            r = client.call(
                "POST",
                "/closet/items",
                files={"photo": (path.name, path.read_bytes())},
                data={"category": category},
            )
            if r.status_code != 201:
                raise CommandError(f"closet upload {path}: {r.status_code} {r.text}")
            item = client.poll(f"/closet/items/{r.json()['id']}")
            closet_items += 1
            if item["status"] != "ready":
                closet_failed.append(f"{path.name}: {item['status']} {item['failure_reason']}")
        self.stdout.write(
            f"closet: {closet_items} items ({len(owned_photos)} are catalog photos), "
            f"{len(closet_failed)} not ready"
        )

        owned_seen: set[int] = set()
        shown: set[int] = set()
        left_out = 0

        def query(
            photo: Path, truth: str, box: list[float] | None, tally: Tally, label: str = ""
        ) -> None:
            """One search; with ``label`` the category is sent and the fine class scored."""
            nonlocal left_out
            form: dict[str, Any] = {"wait": "8"}
            if box:
                form["box"] = json.dumps(box)
            if label:
                form["category"] = truth
            r = client.call(
                "POST", "/searches", files={"photo": (photo.name, photo.read_bytes())}, data=form
            )
            if r.status_code not in (200, 202):
                raise CommandError(f"search {photo}: {r.status_code} {r.text}")
            search = r.json()
            if search["status"] not in ("ready", "failed"):
                search = client.poll(f"/searches/{search['id']}")
            if search["status"] != "ready" or not search["garments"]:
                tally.failed += 1
                tally.add(truth=truth, guessed="", precision=None)
                return
            garment = search["garments"][0]
            path = f"/garments/{garment['id']}/recommendations"
            answer = client.call("GET", path, params={"limit": k}).json()
            full = client.call("GET", path, params={"limit": k, "include_owned": "true"}).json()
            results = answer["results"]
            shown.update(p["id"] for p in results)
            owned_seen.update(p["id"] for p in full["results"] if p["owned"])
            left_out += answer["left_out_owned"]
            same = [
                (p["name"].split()[0] == label) if label else (p["category"] == truth)
                for p in results
            ]
            precision = sum(same) / len(same) if same else None
            tally.add(truth=truth, guessed=garment["category"] or "", precision=precision)

        single = Tally()
        for path, _label, category in class_photos(
            validation, o["queries_per_class"], skip=o["closet_per_class"]
        ):
            query(path, category, None, single)
        self.stdout.write("\n".join(single.lines("validation photos (whole photo)", k)))

        fine = Tally()  # the category sent (as the app does when the user picks it)
        for path, label, category in class_photos(
            validation, o["queries_per_class"], skip=o["closet_per_class"]
        ):
            query(path, category, None, fine, label=label)
        self.stdout.write(
            "\n".join(fine.lines("validation photos, category sent: same fine class", k))
        )

        owned_queries = Tally()
        for path, _label, category in owned_photos:
            query(path, category, None, owned_queries)

        streets = Tally()
        with (street / "tags.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))[: o["street"]]
        for row in rows:
            photo = street / row["image"]
            wanted = sorted({STREET_TAGS[t] for t in row["tags"].split(";") if t in STREET_TAGS})
            with Image.open(photo) as image:
                width, height = image.size
            for category in wanted:
                x1, y1, x2, y2 = STREET_BOXES[category]
                box = [x1 * width, y1 * height, x2 * width, y2 * height]
                query(photo, category, box, streets)
        self.stdout.write("\n".join(streets.lines("street photos (client box per tag)", k)))

        leaks = sorted(owned_seen & shown)
        figures = {
            "catalog_photos": len(catalog),
            "closet_items": closet_items,
            "closet_not_ready": closet_failed,
            "k": k,
            "validation": single.__dict__ | {"lines": single.lines("validation", k)},
            "street": streets.__dict__ | {"lines": streets.lines("street", k)},
            "fine_class": fine.__dict__ | {"lines": fine.lines("fine class", k)},
            "owned_products_seen": len(owned_seen),
            "left_out_owned_total": left_out,
            "owned_leaks": leaks,
            "seconds": round(time.monotonic() - started, 1),
        }
        self.stdout.write(
            f"owned: {len(owned_seen)} products marked owned in include_owned answers, "
            f"{left_out} left out of default answers, {len(leaks)} came back anyway"
        )
        self.stdout.write(f"done in {figures['seconds']} s")
        if o["json"]:
            o["json"].write_text(json.dumps(figures, indent=2, default=str))
        if leaks:
            raise CommandError(f"owned products came back: {leaks}")

    def _import(self, photos: list[tuple[Path, str, str]]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "real-catalog.jsonl"
            with path.open("w") as handle:
                for i, (photo, label, category) in enumerate(photos):
                    row = {
                        "shop": SHOPS[zlib.crc32(photo.stem.encode()) % len(SHOPS)],
                        "external_id": f"cs-{label}-{photo.stem}",
                        "name": f"{label} {photo.stem[:8]}",
                        "brand": "clothing-small",
                        "price": 10000 + 500 * (i % 40),
                        "category": category,
                        "purchase_url": f"https://real.example.com/p/{photo.stem}",
                        "images": [str(photo.resolve())],
                    }
                    handle.write(json.dumps(row) + "\n")
            summary = catalog_import(path=path)
        if summary.errors:
            raise CommandError(f"import errors: {summary.errors[:5]}")
        images = ProductImage.objects.filter(product__shop__name__in=SHOPS)
        analyser = catalog_services.image_analyser()
        for image_id in images.exclude(status=ProcessingStatus.READY).values_list("pk", flat=True):
            catalog_services.product_image_process(image_id=image_id, analyser=analyser)
        deadline = time.monotonic() + 300  # images the worker took meanwhile
        while images.exclude(status__in=[ProcessingStatus.READY, ProcessingStatus.FAILED]).exists():
            if time.monotonic() > deadline:
                raise CommandError("catalog images still processing after 300 s")
            time.sleep(1)
        for category in sorted(set(CLOTHING_SMALL_CATEGORIES.values())):
            catalog_services.index_rebuild(category=category)
        failed = images.filter(status=ProcessingStatus.FAILED).count()
        self.stdout.write(
            f"catalog: {summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged; "
            f"{images.count() - failed} images ready, {failed} failed; indexes rebuilt"
        )
