"""The e2e command's HTTP client rides out throttling and an expired access token."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from apps.demo.management.commands.e2e_real_photos import Client


def _response(status: int, body: bytes = b"{}") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    return response


THROTTLED = b'{"error": {"details": {"retry_after": 0}}}'


@pytest.mark.parametrize(
    "statuses",
    [[429, 401, 200], [401, 429, 200], [429, 429, 429, 401, 200]],
    ids=["throttled-then-expired", "expired-then-throttled", "long-throttle"],
)
def test_a_call_refreshes_once_and_waits_out_throttling(
    statuses: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client("http://127.0.0.1:1")
    answers = [_response(s, THROTTLED if s == 429 else b"{}") for s in statuses]
    refreshed: list[bool] = []

    def request(method: str, url: str, **kwargs: Any) -> requests.Response:
        return answers.pop(0)

    monkeypatch.setattr(client.http, "request", request)
    monkeypatch.setattr(client, "_refresh", lambda: refreshed.append(True))
    assert client.call("POST", "/searches").status_code == 200
    assert refreshed == [True]


def test_a_token_the_refresh_does_not_cure_is_reported_not_retried_forever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = Client("http://127.0.0.1:1")
    calls: list[str] = []

    def request(method: str, url: str, **kwargs: Any) -> requests.Response:
        calls.append(url)
        return _response(401)

    monkeypatch.setattr(client.http, "request", request)
    monkeypatch.setattr(client, "_refresh", lambda: None)
    assert client.call("GET", "/me").status_code == 401
    assert len(calls) == 2
