"""python manage.py load_test: a bounded load run against a running server, faults optional.

A fixed number of users (threads, one HTTP session each) sign up, then for a fixed time mix
what the app does: browse shops and products, read the feed and the style profile, upload
closet photos, search with a photo, read the recommendations and style-matched shops of the
garments found. It reports requests/s and p50/p95/p99 per endpoint, 4xx/5xx and connection
errors; afterwards it waits for every upload to end ``ready`` or ``failed`` and checks that
each user's closet and searches hold exactly what the server said it created (nothing lost,
nothing duplicated, nothing stuck).

``--fault "SECONDS:shell command"`` (repeatable) runs a command at that second of the run
(kill the worker, drop the database connections, restart a private Redis...): its exit
status and time are reported with the rest. Photos are drawn by ml.synthetic (no data set
needed). Run it against gunicorn + a worker (see docs/benchmarks.md, "Load and faults").
"""

from __future__ import annotations

import io
import json
import random
import secrets
import subprocess
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import requests
from django.core.management.base import BaseCommand, CommandError

from ml.synthetic import render_product_shot, sample_spec
from ml.types import CATEGORIES

ACTIONS = (  # (name, weight)
    ("browse", 30),
    ("feed", 15),
    ("style", 5),
    ("closet_upload", 10),
    ("closet_list", 10),
    ("search", 10),
    ("recommend", 20),
)


def photos(count: int, seed: int) -> list[tuple[bytes, str]]:
    out = []
    for i in range(count):
        category = CATEGORIES[i % len(CATEGORIES)]
        shot = render_product_shot(sample_spec(seed * 1000 + i, category=category))
        buffer = io.BytesIO()
        shot.image.convert("RGB").save(buffer, format="JPEG", quality=90)
        out.append((buffer.getvalue(), category))
    return out


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    status: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    samples_5xx: list[str] = field(default_factory=list)

    def record(self, name: str, seconds: float, status: str, detail: str = "") -> None:
        with self.lock:
            self.latency[name].append(seconds)
            self.status[name][status] += 1
            failed = status.startswith("5") or status == "conn"
            if failed and len(self.samples_5xx) < 20:
                self.samples_5xx.append(f"{name} {status} {detail[:200]}")


class User:
    def __init__(self, base: str, stats: Stats, rng: random.Random) -> None:
        self.base = base
        self.stats = stats
        self.rng = rng
        self.http = requests.Session()
        self.refresh = ""
        self.closet: list[int] = []  # ids the server answered 201 for
        self.searches: list[int] = []
        self.garments: list[int] = []
        self.product_ids: list[int] = []

    def sign_up(self, email: str, password: str) -> None:
        r = self.http.post(
            f"{self.base}/_allauth/app/v1/auth/signup",
            json={"email": email, "password": password},
            timeout=60,
        )
        meta = r.json().get("meta", {})
        if not meta.get("access_token"):
            raise CommandError(f"sign-up failed: {r.status_code} {r.text[:300]}")
        self.http.headers["Authorization"] = f"Bearer {meta['access_token']}"
        self.refresh = meta["refresh_token"]

    def call(self, name: str, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        for attempt in range(2):
            started = time.monotonic()
            try:
                r = self.http.request(method, f"{self.base}/api/v1{path}", timeout=60, **kwargs)
            except requests.RequestException as exc:
                self.stats.record(name, time.monotonic() - started, "conn", repr(exc))
                return None
            if r.status_code == 401 and attempt == 0 and self._refresh():
                continue
            self.stats.record(name, time.monotonic() - started, str(r.status_code), r.text)
            return r
        return None

    def _refresh(self) -> bool:
        try:
            r = self.http.post(
                f"{self.base}/_allauth/app/v1/tokens/refresh",
                json={"refresh_token": self.refresh},
                timeout=60,
            )
        except requests.RequestException:
            return False
        if r.status_code != 200:
            return False
        data = r.json()["data"]
        self.http.headers["Authorization"] = f"Bearer {data['access_token']}"
        self.refresh = data["refresh_token"]
        return True

    def act(self, action: str, pool: list[tuple[bytes, str]]) -> None:
        rng = self.rng
        if action == "browse":
            r = self.call("GET /shops", "GET", "/shops")
            params = {"category": rng.choice(CATEGORIES), "page": rng.randint(1, 3)}
            r = self.call("GET /products", "GET", "/products", params=params)
            if r is not None and r.status_code == 200:
                self.product_ids = [p["id"] for p in r.json()["results"]] or self.product_ids
            if self.product_ids:
                pk = rng.choice(self.product_ids)
                self.call("GET /products/{id}", "GET", f"/products/{pk}")
        elif action == "feed":
            self.call("GET /feed", "GET", "/feed", params={"page": rng.randint(1, 2)})
        elif action == "style":
            self.call("GET /me/style", "GET", "/me/style")
        elif action == "closet_upload":
            data, category = rng.choice(pool)
            r = self.call(
                "POST /closet/items",
                "POST",
                "/closet/items",
                files={"photo": ("p.jpg", data, "image/jpeg")},
                data={"category": category},
            )
            if r is not None and r.status_code == 201:
                self.closet.append(r.json()["id"])
        elif action == "closet_list":
            self.call("GET /closet/items", "GET", "/closet/items")
        elif action == "search":
            data, category = rng.choice(pool)
            r = self.call(
                "POST /searches",
                "POST",
                "/searches",
                files={"photo": ("s.jpg", data, "image/jpeg")},
                data={"category": category, "wait": "2"},
            )
            if r is not None and r.status_code in (200, 202):
                body = r.json()
                self.searches.append(body["id"])
                self.garments.extend(g["id"] for g in body["garments"])
        elif action == "recommend":
            if not self.garments and self.searches:
                sid = rng.choice(self.searches)
                r = self.call("GET /searches/{id}", "GET", f"/searches/{sid}")
                if r is not None and r.status_code == 200:
                    self.garments.extend(g["id"] for g in r.json()["garments"])
            if not self.garments:
                return
            gid = rng.choice(self.garments)
            params: dict[str, Any] = {"limit": rng.choice((5, 10, 20))}
            if rng.random() < 0.3:
                params["price_max"] = rng.choice((50000, 100000, 200000))
            self.call(
                "GET /garments/{id}/recommendations",
                "GET",
                f"/garments/{gid}/recommendations",
                params=params,
            )
            if rng.random() < 0.3:
                self.call("GET /garments/{id}/shops", "GET", f"/garments/{gid}/shops")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) * 1000 if values else 0.0


class Command(BaseCommand):
    help = "A bounded load run (fixed users and seconds) against a running server; faults."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--users", type=int, default=8)
        parser.add_argument("--seconds", type=float, default=60)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--think", type=float, default=0.1, help="seconds between actions")
        parser.add_argument("--settle", type=float, default=300, help="seconds to wait after")
        parser.add_argument("--fault", action="append", default=[], help='"SECONDS:command"')
        parser.add_argument("--json", type=Path)

    def handle(self, *args: Any, **o: Any) -> None:
        base = o["base_url"].rstrip("/")
        stats = Stats()
        pool = photos(16, o["seed"])
        run_id = secrets.token_hex(3)
        users = []
        for i in range(o["users"]):
            user = User(base, stats, random.Random(o["seed"] * 100 + i))
            user.sign_up(f"load-{run_id}-{i}@example.com", "load-pass-" + secrets.token_hex(8))
            users.append(user)
        weights = [w for _, w in ACTIONS]
        names = [n for n, _ in ACTIONS]
        started = time.monotonic()
        stop = started + o["seconds"]
        faults: list[dict[str, Any]] = []

        def run_faults() -> None:
            for spec in sorted(o["fault"], key=lambda s: float(s.split(":", 1)[0])):
                at, command = spec.split(":", 1)
                time.sleep(max(0.0, started + float(at) - time.monotonic()))
                t0 = time.monotonic()
                done = subprocess.run(  # noqa: S602 (the operator's own command)
                    command, shell=True, capture_output=True, text=True, timeout=120
                )
                faults.append(
                    {
                        "at": round(t0 - started, 1),
                        "command": command,
                        "rc": done.returncode,
                        "output": (done.stdout + done.stderr).strip()[-300:],
                    }
                )
                self.stdout.write(f"fault at {t0 - started:.1f}s rc={done.returncode}: {command}")

        def loop(user: User) -> None:
            while time.monotonic() < stop:
                user.act(user.rng.choices(names, weights)[0], pool)
                time.sleep(o["think"])

        threads = [threading.Thread(target=loop, args=(u,)) for u in users]
        fault_thread = threading.Thread(target=run_faults)
        fault_thread.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        fault_thread.join()

        settle = self.settle(users, o["settle"])
        report = self.report(stats, elapsed, settle, faults, o)
        self.stdout.write(report["text"])
        if o["json"]:
            o["json"].write_text(json.dumps(report, indent=2, default=str))

    def settle(self, users: list[User], seconds: float) -> dict[str, Any]:
        """Wait until every upload is ready or failed; compare with what each user lists."""
        deadline = time.monotonic() + seconds
        outcome: dict[str, Any] = {
            "closet": Counter(),
            "searches": Counter(),
            "reasons": Counter(),
            "lost": 0,
            "unexpected": 0,
        }
        quiet = Stats()
        for user in users:
            user.stats = quiet
            for kind, ids, path in (
                ("closet", user.closet, "/closet/items"),
                ("searches", user.searches, "/searches"),
            ):
                for pk in ids:
                    while True:
                        r = user.call("settle", "GET", f"{path}/{pk}")
                        body = r.json() if r is not None and r.status_code == 200 else {}
                        status = body.get("status", f"http {r.status_code if r else 'conn'}")
                        if status in ("ready", "failed") or time.monotonic() > deadline:
                            break
                        time.sleep(1)
                    outcome[kind][status] += 1
                    if status == "failed":
                        outcome["reasons"][body.get("failure_reason", "")] += 1
                listed = user.call("settle", "GET", path, params={"page_size": 100})
                seen: set[int] = set()
                page = listed.json() if listed is not None and listed.status_code == 200 else {}
                while page:
                    seen.update(x["id"] for x in page.get("results", []))
                    nxt = page.get("next")
                    page = user.http.get(nxt, timeout=60).json() if nxt else {}
                outcome["lost"] += len(set(ids) - seen)
                outcome["unexpected"] += len(seen - set(ids))
        return outcome

    def report(
        self,
        stats: Stats,
        elapsed: float,
        settle: dict[str, Any],
        faults: list[dict[str, Any]],
        o: dict[str, Any],
    ) -> dict[str, Any]:
        rows = []
        total = 0
        for name in sorted(stats.latency):
            values = stats.latency[name]
            codes = stats.status[name]
            total += len(values)
            rows.append(
                {
                    "endpoint": name,
                    "requests": len(values),
                    "rps": round(len(values) / elapsed, 2),
                    "p50_ms": round(percentile(values, 50), 1),
                    "p95_ms": round(percentile(values, 95), 1),
                    "p99_ms": round(percentile(values, 99), 1),
                    "4xx": sum(v for k, v in codes.items() if k.startswith("4")),
                    "5xx": sum(v for k, v in codes.items() if k.startswith("5")),
                    "conn": codes.get("conn", 0),
                    "codes": dict(codes),
                }
            )
        lines = [
            f"{o['users']} users, {elapsed:.0f} s, {total} requests, {total / elapsed:.1f} req/s",
            "",
            "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | 4xx | 5xx | conn |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *(
                f"| `{r['endpoint']}` | {r['requests']} | {r['rps']} | {r['p50_ms']} | "
                f"{r['p95_ms']} | {r['p99_ms']} | {r['4xx']} | {r['5xx']} | {r['conn']} |"
                for r in rows
            ),
            "",
            f"closet uploads after settling: {dict(settle['closet'])}",
            f"searches after settling: {dict(settle['searches'])}",
            f"failure reasons: {dict(settle['reasons'])}",
            f"created but not listed (lost): {settle['lost']}; "
            f"listed but never created (duplicated): {settle['unexpected']}",
        ]
        if faults:
            lines.append(
                "faults: " + "; ".join(f"{f['at']}s rc={f['rc']} {f['command']}" for f in faults)
            )
        if stats.samples_5xx:
            lines.append("5xx/connection samples: " + " | ".join(stats.samples_5xx))
        return {
            "users": o["users"],
            "seconds": round(elapsed, 1),
            "requests": total,
            "rps": round(total / elapsed, 2),
            "endpoints": rows,
            "settle": settle,
            "faults": faults,
            "samples_5xx": stats.samples_5xx,
            "text": "\n".join(lines),
        }
