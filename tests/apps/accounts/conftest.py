"""Fixtures of the accounts tests: our Kakao app's settings and a fake Kakao."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache

from tests.apps.accounts.support import (
    APP_ID,
    KAKAO_TIMEOUT,
    NATIVE_APP_KEY,
    REST_API_KEY,
    FakeKakao,
)


@pytest.fixture(autouse=True)
def kakao_settings(settings: Any) -> Any:
    settings.SOCIALACCOUNT_PROVIDERS = {
        "kakao": {
            "APP_ID": APP_ID,
            "AUDIENCES": [NATIVE_APP_KEY, REST_API_KEY],
            "TIMEOUT": KAKAO_TIMEOUT,
            "JWKS_CACHE_SECONDS": 3600,
        }
    }
    return settings


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def kakao_signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def stranger_signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def kakao(kakao_signing_key: rsa.RSAPrivateKey) -> Iterator[FakeKakao]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeKakao(mock=mock, signing_key=kakao_signing_key)
