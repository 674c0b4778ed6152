"""The services tier: the real PostgreSQL and Redis, over real connections."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings

from apps.accounts.models import User

pytestmark = pytest.mark.services


def redis_settings(url: str) -> dict:
    return {
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
            }
        },
        "CELERY_BROKER_URL": url,
        "CELERY_BROKER_TRANSPORT_OPTIONS": {"visibility_timeout": 3600},
    }


@pytest.mark.django_db(transaction=True)
def test_database_round_trip_on_postgresql(postgres):
    created = User.objects.create_user(
        email="round@example.com", password="pw-123456789", preferred_styles=["street", "modern"]
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert "PostgreSQL" in cursor.fetchone()[0]
    fetched = User.objects.get(pk=created.pk)
    assert fetched.preferred_styles == ["street", "modern"]
    assert fetched.check_password("pw-123456789")


def test_health_is_200_on_postgresql_and_redis(postgres, redis_url, api_client):
    with override_settings(**redis_settings(redis_url)):
        caches["default"].clear()
        response = api_client.get("/api/v1/health")

    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert checks["database"]["info"]["vendor"] == "postgresql"
    assert checks["cache"]["info"]["backend"] == "RedisCache"
    assert checks["broker"]["info"]["transport"] == "redis"


def test_health_is_503_naming_redis_when_it_goes_away(postgres, redis_url, api_client):
    closed = "redis://127.0.0.1:1/0"
    with override_settings(**redis_settings(closed), HEALTH_CHECK_TIMEOUT=1):
        response = api_client.get("/api/v1/health")

    assert response.status_code == 503
    assert response.json()["down"] == ["cache", "broker"]
