"""Kakao slow for real: a server on loopback that answers after our timeout, and the
settings that carry the Kakao configuration from the environment."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import apps.accounts.kakao.client as kakao_client
from tests.apps.accounts.support import error_codes, kakao_login
from tests.support import run_python

pytestmark = pytest.mark.django_db


class SlowKakao(BaseHTTPRequestHandler):
    delay = 2.0

    def do_GET(self) -> None:
        time.sleep(self.delay)
        body = json.dumps({"id": 1, "expires_in": 100, "app_id": 1234567}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up, as it should

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slow_kakao_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowKakao)
    server.daemon_threads = True  # do not wait for the sleeping handler on close
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/user/access_token_info"
    finally:
        server.shutdown()
        server.server_close()


def test_kakao_slower_than_the_timeout_answers_503_in_time(
    kakao_settings, slow_kakao_url, monkeypatch
):
    kakao_settings.SOCIALACCOUNT_PROVIDERS["kakao"]["TIMEOUT"] = 0.3
    monkeypatch.setattr(kakao_client, "ACCESS_TOKEN_INFO_URL", slow_kakao_url)

    started = time.monotonic()
    response = kakao_login({"access_token": "kakao-at-1"})
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert error_codes(response) == ["kakao_unavailable"]
    assert elapsed < 1.5  # gave up after the configured 0.3 s, not the server's 2 s


def test_kakao_configuration_comes_from_the_environment(tmp_path):
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.SOCIALACCOUNT_PROVIDERS['kakao']))"
    )
    result = run_python(
        code,
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "VAR_DIR": str(tmp_path),
            "KAKAO_APP_ID": "777",
            "KAKAO_NATIVE_APP_KEY": "native",
            "KAKAO_REST_API_KEY": "rest",
            "KAKAO_TIMEOUT": "1.5",
        },
    )

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["APP_ID"] == "777"
    assert loaded["AUDIENCES"] == ["native", "rest"]
    assert loaded["TIMEOUT"] == 1.5
