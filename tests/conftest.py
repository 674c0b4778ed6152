"""Fixtures shared by every tier.

The services tier (marker ``services``) needs the real PostgreSQL and Redis. Where they
cannot be reached its tests skip, unless ``REQUIRE_SERVICES=1`` (CI), where they fail.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.models import User
from tests.support import ROOT

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), 1):
            return True
    except OSError:
        return False


def _missing_service(what: str) -> None:
    message = f"{what} is not reachable: the services tier needs it."
    if REQUIRE_SERVICES:
        pytest.fail(message + " (REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message + " Set DATABASE_URL/TEST_REDIS_URL or start the service.")


@pytest.fixture(autouse=True, scope="session")
def celery_tasks_registered() -> None:
    """Register the tasks as the worker does at start (autodiscovery runs after Django)."""
    import worker.tasks  # noqa: F401


def bearer_for(user: User, password: str = "s3cret-pass-word", base_url: str = "") -> str:
    """An access token for ``user`` from the real app login (email + password)."""
    import requests
    from django.test import Client

    url = "/_allauth/app/v1/auth/login"
    body = {"email": user.email, "password": password}
    if base_url:
        response = requests.post(base_url + url, json=body, timeout=30)
        data = response.json()
    else:
        data = Client().post(url, data=body, content_type="application/json").json()
    return str(data["meta"]["access_token"])


@pytest.fixture
def postgres(db: None) -> None:
    """The test database is the real PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        _missing_service("PostgreSQL (DATABASE_URL or 127.0.0.1:5432)")


@pytest.fixture
def redis_url() -> str:
    """A Redis database for tests (db 15 by default), flushed before use."""
    url = getattr(settings, "TEST_REDIS_URL", "")
    if not url or not _reachable(url):
        _missing_service("Redis (TEST_REDIS_URL or 127.0.0.1:6379)")
    import redis

    redis.Redis.from_url(url).flushdb()
    return str(url)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db: None) -> User:
    return User.objects.create_user(email="mina@example.com", password="s3cret-pass-word")


@pytest.fixture
def other_user(db: None) -> User:
    return User.objects.create_user(email="joon@example.com", password="s3cret-pass-word")


@pytest.fixture
def auth_client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- a real Celery worker process (services tier) ---------------------------------------
# It runs the project's Celery app in a child process, reading the real Redis broker and the
# same PostgreSQL test database as the test (so the test must commit: the fixture asks for
# ``transactional_db``).


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker",
                "worker",
                "-Q",
                "vision,default",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--prefetch-multiplier",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
                "--hostname",
                f"test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.proc.poll() is not None:
                raise RuntimeError("the worker exited at start:\n" + self.log()[-3000:])
            time.sleep(0.2)
        raise RuntimeError("the worker did not become ready:\n" + self.log()[-3000:])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children), as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def celery_worker_process(
    transactional_db, postgres, redis_url, tmp_path
) -> Iterator[WorkerProcess]:
    db = connection.settings_dict
    user = f"{db['USER']}@" if db.get("USER") else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    env = dict(os.environ) | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{user}{host}/{db['NAME']}",
        "TEST_REDIS_URL": redis_url,
        "VAR_DIR": str(settings.VAR_DIR),
    }
    worker = WorkerProcess(env, tmp_path / "worker.log")
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
