"""Each settings profile loads from the environment; production refuses to start without
its secrets and passes ``check --deploy`` with them."""

from __future__ import annotations

import json
import secrets

import pytest

from config.settings.keys import generate_rsa_private_key_pem
from tests.support import run_manage, run_python

DUMP = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_options": settings.DATABASES["default"].get("OPTIONS", {}),
    "cache": settings.CACHES["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
    "storage": settings.STORAGES["default"]["BACKEND"],
    "media_root": str(settings.MEDIA_ROOT),
    "debug": settings.DEBUG,
    "password_login": settings.ACCOUNTS_PASSWORD_LOGIN_ENABLED,
}))
"""


def production_env(tmp_path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "api.example.com",
        "DATABASE_URL": "postgres://app:pw@db.example.com:5432/app",
        "REDIS_URL": "redis://redis.example.com:6379/0",
        "AWS_STORAGE_BUCKET_NAME": "media",
        "AWS_S3_ENDPOINT_URL": "http://minio:9000",
        "JWT_PRIVATE_KEY": generate_rsa_private_key_pem(),
        "VAR_DIR": str(tmp_path / "var"),
    }


def load(env: dict[str, str]) -> dict[str, object]:
    result = run_python(DUMP, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_local_profile_is_embedded_with_nothing_set(tmp_path):
    loaded = load({"DJANGO_SETTINGS_MODULE": "config.settings.local", "VAR_DIR": str(tmp_path)})

    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in loaded["db_options"]["init_command"]
    assert loaded["cache"].endswith("FileBasedCache")
    assert loaded["broker"] == "filesystem://"
    assert loaded["storage"].endswith("FileSystemStorage")
    assert loaded["media_root"] == str(tmp_path / "media")
    assert loaded["debug"] is True
    assert loaded["password_login"] is True
    assert (tmp_path / "broker" / "queue").is_dir()


def test_local_profile_moves_to_the_full_stack_with_urls(tmp_path):
    loaded = load(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/app",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "AWS_STORAGE_BUCKET_NAME": "media",
        }
    )

    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["cache"].endswith("RedisCache")
    assert loaded["broker"] == "redis://127.0.0.1:6379/0"
    assert loaded["storage"] == "backend.storage.MediaS3Storage"


def test_test_profile_loads_with_an_in_memory_cache():
    from django.conf import settings

    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_production_loads_with_its_variables(tmp_path):
    loaded = load(production_env(tmp_path))

    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["debug"] is False
    assert loaded["password_login"] is False


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL", "JWT_PRIVATE_KEY"])
def test_production_refuses_to_start_naming_the_missing_variable(tmp_path, missing):
    env = production_env(tmp_path)
    del env[missing]

    result = run_manage(["check"], env)

    assert result.returncode != 0
    assert "Production settings need these environment variables: " + missing in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path):
    env = production_env(tmp_path) | {"DJANGO_SECRET_KEY": "short"}

    result = run_manage(["check"], env)

    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_production_passes_check_deploy(tmp_path):
    result = run_manage(["check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
