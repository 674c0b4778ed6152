"""docker-compose.yml, checked without a Docker engine: the services, their images and
health checks, start order on health, and commands that point at code that exists."""

from __future__ import annotations

import importlib.util
import json

import pytest
import yaml

from tests.support import ROOT, run_python

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["init", "web", "worker-vision", "worker-default", "beat"]


def env_file(name: str) -> dict[str, str]:
    values = {}
    for line in (ROOT / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_the_full_stack_is_there():
    assert {"postgres", "redis", "minio", "minio-init", *APP_SERVICES} <= set(SERVICES)


@pytest.mark.parametrize("name", ["postgres", "redis", "minio"])
def test_backing_services_use_pinned_images_and_health_checks(name):
    service = SERVICES[name]
    assert ":" in service["image"] and not service["image"].endswith(":latest")
    assert service["healthcheck"]["test"]


def test_minio_bucket_is_created_after_minio_is_healthy():
    init = SERVICES["minio-init"]
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"
    bucket = env_file("config/env/compose.env")["AWS_STORAGE_BUCKET_NAME"]
    assert f"mc mb --ignore-existing local/{bucket}" in init["entrypoint"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_build_the_image_and_read_the_env_file(name):
    service = SERVICES[name]
    assert service["build"] == "."
    assert (ROOT / service["env_file"]).is_file()


@pytest.mark.parametrize("name", ["web", "worker-vision", "worker-default", "beat"])
def test_app_services_wait_for_healthy_dependencies(name):
    depends = SERVICES[name]["depends_on"]
    for backing in ("postgres", "redis", "minio"):
        assert depends[backing]["condition"] == "service_healthy"
    assert depends["init"]["condition"] == "service_completed_successfully"
    assert SERVICES[name]["healthcheck"]["test"]


def test_web_runs_gunicorn_with_a_config_that_names_the_wsgi_app():
    command = SERVICES["web"]["command"]
    assert command[:2] == ["gunicorn", "-c"]
    config_path = ROOT / command[2]
    assert config_path.is_file()
    spec = importlib.util.spec_from_file_location("gunicorn_conf", config_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module_name, _, attr = module.wsgi_app.partition(":")
    assert (ROOT / (module_name.replace(".", "/") + ".py")).is_file()
    assert attr == "application"


@pytest.mark.parametrize(
    ("name", "queue"), [("worker-vision", "vision"), ("worker-default", "default")]
)
def test_each_worker_consumes_its_queue_from_the_celery_app(name, queue):
    command = SERVICES[name]["command"]
    assert command[:4] == ["celery", "-A", "worker", "worker"]
    assert command[command.index("-Q") + 1] == queue
    from worker.celery import app

    assert queue in {q.name for q in app.conf.task_queues}


def test_vision_worker_takes_one_task_at_a_time():
    command = SERVICES["worker-vision"]["command"]
    assert command[command.index("--prefetch-multiplier") + 1] == "1"
    assert command[command.index("--concurrency") + 1] == "1"


def test_beat_runs_the_celery_app():
    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "worker", "beat"]


def test_init_creates_the_key_and_migrates_with_modules_that_exist():
    command = " ".join(SERVICES["init"]["command"])
    assert "python -m config.settings.keys" in command
    assert "manage.py migrate" in command
    assert (ROOT / "config/settings/keys.py").is_file()


def test_the_dockerfile_installs_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements.txt" in dockerfile
    assert "config.settings.production" in dockerfile


def test_the_compose_env_file_satisfies_production_settings(tmp_path):
    env = env_file("config/env/compose.env")
    key = tmp_path / "jwt.pem"
    env |= {"JWT_PRIVATE_KEY_FILE": str(key), "VAR_DIR": str(tmp_path)}
    run_python(
        f"from config.settings.keys import load_or_create_private_key as f; "
        f"from pathlib import Path; f(Path({str(key)!r}))",
        {},
    )

    result = run_python(
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.DATABASES['default']['HOST'], settings.CELERY_BROKER_URL,"
        " settings.STORAGES['default']['BACKEND']]))",
        env,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "postgres",
        "redis://redis:6379/0",
        "backend.storage.MediaS3Storage",
    ]
