"""Helpers for tests that run the project in a child process with its own environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Variables that would leak the parent's configuration into a child's profile.
_PROFILE_VARIABLES = (
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "AWS_STORAGE_BUCKET_NAME",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "JWT_PRIVATE_KEY",
    "TEST_SERVICES",
    "TEST_REDIS_URL",
)


def run_python(
    code: str, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with the project's interpreter in a clean profile environment."""
    child_env = {k: v for k, v in os.environ.items() if k not in _PROFILE_VARIABLES}
    child_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_manage(
    args: list[str], env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if k not in _PROFILE_VARIABLES}
    child_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
