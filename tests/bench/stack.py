"""Benchmarks of the running stack: gunicorn and a Celery worker on loopback, PostgreSQL,
Redis, real HTTP.

    python -m tests.bench.stack --products 100000 --out var/bench/stack.json

Measures (issues 6 and 7):

* recommendations for an analysed garment: p50/p95, uncached (first request for a garment)
  and cached (the same request again), over a catalog of ``--products`` products;
* throughput of a bounded concurrent load (recommendations, feed, product pages) and its
  status codes;
* closet photos processed per minute by one worker, and upload-to-``ready`` latency
  p50/p95 under a steady trickle;
* search photo upload-to-results p50;

first with the default models, then (``--heavy``) with YOLOv8s (person + garment models)
and ResNet50, both built locally from their yaml / random init: timing only.

The catalog is made of synthetic product shots (``ml.synthetic``) encoded by the default
encoder; past ``--base`` distinct shots, products reuse a shot's vector with a little
noise (their rows, crops and index entries are real), so that 100,000 products take
minutes to set up instead of hours. It needs PostgreSQL and Redis on loopback; it uses its
own database (``bench_stack``) and Redis db 7.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


PASSWORD = "bench-pass-word-123"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p95_ms": round(percentile(values, 95) * 1000, 2),
        "p99_ms": round(percentile(values, 99) * 1000, 2),
    }


# --- environment --------------------------------------------------------------------------


def stack_env(var_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_DEBUG="false",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/bench_stack",
        REDIS_URL="redis://127.0.0.1:6379/7",
        VAR_DIR=str(var_dir),
        ACCOUNTS_PASSWORD_LOGIN_ENABLED="true",
        THROTTLE_UPLOADS="100000/min",
        LOG_LEVEL="WARNING",
    )
    env.update(extra or {})
    return env


def ensure_database() -> None:
    import psycopg2

    connection = psycopg2.connect("postgres://postgres@127.0.0.1:5432/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'bench_stack'")
        if cursor.fetchone() is None:
            cursor.execute("CREATE DATABASE bench_stack")
    connection.close()


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- the catalog ------------------------------------------------------------------------------


def build_catalog(products: int, base: int, seed: int = 7) -> None:
    """``products`` products in 20 shops over the four categories, indexed."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from apps.catalog import services
    from apps.catalog.models import Product, ProductCrop, ProductImage, Shop
    from config.taxonomy import styles
    from ml.registry import get_registry
    from ml.synthetic import render_product_shot, sample_spec

    have = Product.objects.count()
    if have >= products:
        print(f"catalog: {have} products already there")
        return
    services.style_rows_ensure()
    encoder = get_registry().encoder()
    names = styles()
    rng = np.random.default_rng(seed)
    categories = ["top", "bottom", "outer", "dress"]
    started = time.perf_counter()
    specs = [
        sample_spec(seed * 100_000 + i, category=categories[i % 4], style=names[i % len(names)])
        for i in range(base)
    ]
    shots = [render_product_shot(spec).image for spec in specs]
    vectors = np.concatenate(
        [encoder.encode_array(shots[i : i + 64]) for i in range(0, len(shots), 64)]
    )
    files = []
    for i, shot in enumerate(shots):
        buffer = io.BytesIO()
        shot.save(buffer, format="JPEG", quality=88)
        files.append(default_storage.save(f"bench/shots/{i}.jpg", ContentFile(buffer.getvalue())))
    print(f"catalog: rendered and encoded {base} shots in {time.perf_counter() - started:.1f} s")

    shop_styles = [names[(i * 5) % len(names)] for i in range(20)]
    shops = [
        Shop.objects.get_or_create(name=f"Bench shop {i}", defaults={"kind": "mall"})[0]
        for i in range(20)
    ]
    Through = Product.style_tags.through
    batch = 5000
    for start in range(have, products, batch):
        stop = min(start + batch, products)
        rows, tags, picks = [], [], []
        for i in range(start, stop):
            b = i % base
            shop = int(rng.integers(20))
            spec = specs[b]
            style_set = {spec.styles[0]} | ({shop_styles[shop]} if rng.random() < 0.5 else set())
            rows.append(
                Product(
                    shop=shops[shop],
                    external_id=f"B{i:07d}",
                    name=f"{spec.shape} {i}",
                    brand="Bench",
                    price=int(rng.integers(10, 300)) * 1000,
                    category=spec.category,
                    purchase_url=f"https://shop.example.com/p/{i}",
                )
            )
            tags.append(style_set)
            picks.append(b)
        created = Product.objects.bulk_create(rows)
        Through.objects.bulk_create(
            [
                Through(product_id=p.pk, style_id=t)
                for p, ts in zip(created, tags, strict=True)
                for t in ts
            ]
        )
        images = ProductImage.objects.bulk_create(
            [
                ProductImage(
                    product=p,
                    file=files[b],
                    status="ready",
                    width=256,
                    height=256,
                    content_hash=f"bench{p.pk}",
                    processed_hash=f"bench{p.pk}",
                )
                for p, b in zip(created, picks, strict=True)
            ]
        )
        noisy = vectors[picks] + rng.normal(0, 0.02, (len(picks), vectors.shape[1]))
        noisy = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype("<f4")
        ProductCrop.objects.bulk_create(
            [
                ProductCrop(
                    image=image,
                    index=0,
                    box=[0, 0, 256, 256],
                    category=p.category,
                    embedding=noisy[j].tobytes(),
                    embedding_dim=noisy.shape[1],
                    encoder=encoder.name,
                    encoder_version=encoder.version,
                    style_vector=[1.0 / len(tags[j]) if s in tags[j] else 0.0 for s in names],
                    style_source="curated-tags",
                )
                for j, (p, image) in enumerate(zip(created, images, strict=True))
            ]
        )
        print(f"catalog: {stop} products ({time.perf_counter() - started:.0f} s)")
    for shop in shops:
        services.shop_mood_recompute(shop=shop)
    for category in categories:
        index = services.index_rebuild(category=category)
        print(f"index {category}: {index.item_count} items in {index.build_seconds:.1f} s")
    print(f"catalog ready in {time.perf_counter() - started:.0f} s")


def prepare_user(garments: int) -> tuple[str, list[int]]:
    """A user with a closet of 20 ready items and a search with ``garments`` garments."""
    from apps.accounts.models import User
    from apps.catalog.models import ProductCrop
    from apps.closet.models import ClosetItem
    from apps.recommendations.models import Garment, Search

    email = "bench@example.com"
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=PASSWORD
    )
    ClosetItem.objects.filter(user=user).delete()
    Search.objects.filter(user=user).delete()
    crops = list(
        ProductCrop.objects.order_by("?").values_list(
            "category", "encoder", "encoder_version", "embedding", "style_vector"
        )[: garments + 20]
    )
    for category, name, version, blob, style in crops[:20]:
        ClosetItem.objects.create(
            user=user,
            photo="bench/shots/0.jpg",
            category=category,
            status="ready",
            embedding=bytes(blob),
            encoder=f"{name}@{version}",
            style_vector=style,
        )
    search = Search.objects.create(user=user, photo="bench/shots/0.jpg", status="ready")
    rng = np.random.default_rng(3)
    made = []
    for i, (category, name, version, blob, style) in enumerate(crops[20:]):
        vector = np.frombuffer(bytes(blob), dtype="<f4") + rng.normal(0, 0.03, len(blob) // 4)
        vector = (vector / np.linalg.norm(vector)).astype("<f4")
        made.append(
            Garment(
                search=search,
                index=i,
                box=[0, 0, 256, 256],
                category=category,
                embedding=vector.tobytes(),
                encoder=f"{name}@{version}",
                style_vector=style,
            )
        )
    ids = [g.pk for g in Garment.objects.bulk_create(made)]
    return email, ids


# --- processes ------------------------------------------------------------------------------


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_healthy(base_url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base_url}/api/v1/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError("the web server did not become healthy")


def worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker",
            "worker",
            "-Q",
            "vision,default",
            "--concurrency",
            "1",
            "--prefetch-multiplier",
            "1",
            "--loglevel",
            "INFO",
            "--hostname",
            f"bench-{secrets.token_hex(3)}@%h",
        ],
        env,
        log,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if " ready." in log.read_text(errors="replace"):
            return process
        time.sleep(0.5)
    raise RuntimeError("the worker did not start:\n" + log.read_text()[-3000:])


# --- measurements ----------------------------------------------------------------------------


def login(base_url: str, email: str) -> dict[str, str]:
    response = requests.post(
        f"{base_url}/_allauth/app/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        timeout=30,
    )
    return {"Authorization": f"Bearer {response.json()['meta']['access_token']}"}


def timed_get(session: requests.Session, url: str, headers: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    response = session.get(url, headers=headers, timeout=60)
    return time.perf_counter() - started, response.status_code


def measure_recommendations(
    base_url: str, headers: dict[str, str], garments: list[int]
) -> dict[str, Any]:
    session = requests.Session()
    for garment in garments[:10]:  # warm-up: index files mapped, connections open
        timed_get(session, f"{base_url}/api/v1/garments/{garment}/recommendations", headers)
    uncached, cached, codes = [], [], Counter()
    for garment in garments[10:]:
        url = f"{base_url}/api/v1/garments/{garment}/recommendations?limit=10"
        seconds, code = timed_get(session, url, headers)
        uncached.append(seconds)
        codes[code] += 1
        seconds, code = timed_get(session, url, headers)
        cached.append(seconds)
        codes[code] += 1
    return {"uncached": summary(uncached), "cached": summary(cached), "status": dict(codes)}


def measure_load(
    base_url: str, headers: dict[str, str], garments: list[int], users: int, seconds: float
) -> dict[str, Any]:
    results: dict[str, list[float]] = {"recommendations": [], "feed": [], "products": []}
    codes: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def user(number: int) -> None:
        session = requests.Session()
        rng = np.random.default_rng(number)
        while time.monotonic() < deadline:
            pick = rng.random()
            if pick < 0.6:
                kind = "recommendations"
                url = (
                    f"/api/v1/garments/{garments[int(rng.integers(len(garments)))]}/recommendations"
                )
            elif pick < 0.8:
                kind, url = "feed", "/api/v1/feed"
            else:
                kind, url = "products", f"/api/v1/products?page={int(rng.integers(1, 6))}"
            took, code = timed_get(session, base_url + url, headers)
            with lock:
                results[kind].append(took)
                codes[code] += 1

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    total = sum(len(v) for v in results.values())
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "requests_per_second": round(total / elapsed, 1),
        "status": dict(codes),
        "endpoints": {k: summary(v) for k, v in results.items()},
    }


def photo(i: int) -> bytes:
    from ml.synthetic import render_worn, sample_spec

    rendered = render_worn(sample_spec(900_000 + i), scene=i, size=384)
    buffer = io.BytesIO()
    rendered.image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def poll_ready(base_url: str, path: str, headers: dict[str, str], timeout: float = 600) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = requests.get(base_url + path, headers=headers, timeout=30).json()["status"]
        if status in ("ready", "failed"):
            return str(status)
        time.sleep(0.05)
    return "timeout"


def measure_processing(
    base_url: str, headers: dict[str, str], batch: int, trickle: int, interval: float, searches: int
) -> dict[str, Any]:
    api = f"{base_url}/api/v1"
    photos = [photo(i) for i in range(max(batch, trickle, searches))]
    # Throughput: a burst of uploads, the worker drains the queue.
    started = time.perf_counter()
    ids = []
    for data in photos[:batch]:
        response = requests.post(
            f"{api}/closet/items",
            headers=headers,
            files={"photo": ("p.jpg", data, "image/jpeg")},
            timeout=60,
        )
        ids.append(response.json()["id"])
    statuses = Counter(poll_ready(base_url, f"/api/v1/closet/items/{i}", headers) for i in ids)
    burst = time.perf_counter() - started
    # Latency under a steady trickle.
    latencies: list[float] = []
    trickle_status: Counter[str] = Counter()
    lock = threading.Lock()

    def one(data: bytes) -> None:
        t0 = time.perf_counter()
        item = requests.post(
            f"{api}/closet/items",
            headers=headers,
            files={"photo": ("p.jpg", data, "image/jpeg")},
            timeout=60,
        ).json()
        status = poll_ready(base_url, f"/api/v1/closet/items/{item['id']}", headers)
        with lock:
            latencies.append(time.perf_counter() - t0)
            trickle_status[status] += 1

    threads = []
    for data in photos[:trickle]:
        thread = threading.Thread(target=one, args=(data,))
        thread.start()
        threads.append(thread)
        time.sleep(interval)
    for thread in threads:
        thread.join()
    # Search photos: upload to results (garments found, encoded, profiled).
    search_times, search_status = [], Counter()
    for data in photos[:searches]:
        t0 = time.perf_counter()
        body = requests.post(
            f"{api}/searches",
            headers=headers,
            data={"wait": "8"},
            files={"photo": ("s.jpg", data, "image/jpeg")},
            timeout=60,
        ).json()
        status = body["status"]
        if status not in ("ready", "failed"):
            status = poll_ready(base_url, f"/api/v1/searches/{body['id']}", headers)
        search_times.append(time.perf_counter() - t0)
        search_status[status] += 1
    return {
        "closet_burst": {
            "photos": batch,
            "seconds": round(burst, 1),
            "photos_per_minute": round(batch / burst * 60, 1),
            "status": dict(statuses),
        },
        "closet_trickle": {
            "interval_s": interval,
            **summary(latencies),
            "status": dict(trickle_status),
        },
        "search_upload_to_results": {**summary(search_times), "status": dict(search_status)},
    }


def heavy_models(var_dir: Path) -> dict[str, str]:
    """YOLOv8s person + garment models and a ResNet50, built locally (timing only)."""
    import torch
    import torchvision

    models = var_dir / "bench-models"
    models.mkdir(parents=True, exist_ok=True)
    resnet = models / "resnet50.pt"
    if not resnet.exists():
        torch.save(torchvision.models.resnet50(weights=None).state_dict(), resnet)
    person, garment = models / "person-yolov8s.pt", models / "garment-yolov8s.pt"
    if not garment.exists():
        os.environ["YOLO_OFFLINE"] = "1"
        from tests.ml.models import save_yolo

        coco = ["person", *[f"class{i}" for i in range(1, 80)]]
        save_yolo(person, coco, cfg="yolov8s.yaml")
        save_yolo(garment, ["top", "bottom", "outer", "dress"], cfg="yolov8s.yaml")
    return {
        "ML_PERSON_WEIGHTS": str(person),
        "ML_GARMENT_WEIGHTS": str(garment),
        "ML_GARMENT_CLASS_MAP": "synthetic",
        "ML_PERSON_CONFIDENCE": "0.0",  # untrained: accept its boxes so that every stage runs
        "ML_GARMENT_CONFIDENCE": "0.0",
        "ML_ENCODER": "resnet50",
        "ML_ENCODER_WEIGHTS": str(resnet),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--base", type=int, default=800, help="distinct rendered shots")
    parser.add_argument("--garments", type=int, default=210)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--batch", type=int, default=30)
    parser.add_argument("--trickle", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--searches", type=int, default=10)
    parser.add_argument("--heavy", action="store_true", help="also YOLOv8s + ResNet50")
    parser.add_argument("--build-only", action="store_true", help="set up the catalog, stop")
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "bench-stack")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "stack.json")
    args = parser.parse_args()

    args.var_dir.mkdir(parents=True, exist_ok=True)
    ensure_database()
    env = stack_env(args.var_dir)
    django_setup(env)
    build_catalog(args.products, args.base)
    if args.build_only:
        return
    email, garments = prepare_user(args.garments)
    from django.core.cache import cache

    cache.clear()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    logs = args.var_dir / "logs"
    logs.mkdir(exist_ok=True)
    web = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "config/gunicorn.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--threads",
            "4",
            "config.wsgi:application",
        ],
        env | {"DJANGO_SETTINGS_MODULE": "config.settings.local"},
        logs / "web.log",
    )
    report: dict[str, Any] = {"products": args.products, "load_average": os.getloadavg()}
    try:
        wait_healthy(base_url)
        headers = login(base_url, email)
        report["recommendations"] = measure_recommendations(base_url, headers, garments)
        print(json.dumps(report["recommendations"], indent=1))
        report["load"] = measure_load(base_url, headers, garments, args.users, args.seconds)
        print(json.dumps(report["load"], indent=1))
        process = worker(env, logs / "worker-default.log")
        headers = login(base_url, email)  # access tokens live 5 minutes: a fresh one per phase
        try:
            report["processing_default"] = measure_processing(
                base_url, headers, args.batch, args.trickle, args.interval, args.searches
            )
            print(json.dumps(report["processing_default"], indent=1))
        finally:
            stop(process)
        if args.heavy:
            process = worker(env | heavy_models(args.var_dir), logs / "worker-heavy.log")
            headers = login(base_url, email)
            try:
                report["processing_yolov8s_resnet50"] = measure_processing(
                    base_url,
                    headers,
                    max(args.batch // 3, 5),
                    max(args.trickle // 2, 5),
                    args.interval * 3,
                    args.searches,
                )
                print(json.dumps(report["processing_yolov8s_resnet50"], indent=1))
            finally:
                stop(process)
    finally:
        stop(web)
        report["load_average_after"] = os.getloadavg()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1))
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
