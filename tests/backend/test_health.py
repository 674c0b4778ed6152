"""GET /api/v1/health: 200 with every part up, 503 naming the part that is down."""

from __future__ import annotations

import json

from django.test import override_settings

from tests.support import run_python


def test_health_is_200_when_every_part_is_up(api_client, db):
    response = api_client.get("/api/v1/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["down"] == []
    assert set(body["checks"]) == {"database", "cache", "broker", "storage"}
    assert all(check["ok"] for check in body["checks"].values())


def test_health_names_the_models_serving_each_role(api_client, db):
    models = api_client.get("/api/v1/health").json()["models"]["configured"]

    assert models["detector"]["is_default"] is True
    assert models["detector"]["name"] == "full-image (default)"
    assert models["encoder"]["name"] == "descriptor (default)"
    assert models["style"]["name"] == "knn-vote (default)"


def test_health_is_503_naming_an_unreachable_broker(api_client, db):
    with override_settings(
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
        CELERY_BROKER_TRANSPORT_OPTIONS={},
        HEALTH_CHECK_TIMEOUT=1,
    ):
        response = api_client.get("/api/v1/health")

    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["broker"]
    assert body["error"]["code"] == "unhealthy"
    assert "broker" in body["error"]["message"]
    assert body["checks"]["database"]["ok"] is True


def test_health_is_503_naming_an_unreachable_database(tmp_path):
    # A process of its own, configured like a deployment whose database has gone away.
    code = """
import json, django
django.setup()
from django.test import Client
response = Client(HTTP_HOST="127.0.0.1").get("/api/v1/health")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""
    result = run_python(
        code,
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/gone",
        },
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])

    assert outcome["status"] == 503
    assert outcome["body"]["down"] == ["database"]
    assert outcome["body"]["checks"]["cache"]["ok"] is True
