"""The demo page is served at /demo/ with its script and the sign-in form where the
development login is on."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_the_demo_page_offers_sign_in_and_loads_its_script(client, settings):
    settings.ACCOUNTS_PASSWORD_LOGIN_ENABLED = True

    response = client.get("/demo/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="signin-form"' in page
    assert "demo/demo.js" in page and "demo/demo.css" in page
    for category in ("top", "bottom", "outer", "dress"):
        assert f'<option value="{category}">' in page


@pytest.mark.django_db
def test_the_demo_page_says_so_when_password_login_is_off(client, settings):
    settings.ACCOUNTS_PASSWORD_LOGIN_ENABLED = False

    page = client.get("/demo/").content.decode()

    assert 'id="signin-form"' not in page
    assert "ACCOUNTS_PASSWORD_LOGIN_ENABLED" in page


def test_the_demo_script_and_style_are_found_by_staticfiles():
    from django.contrib.staticfiles import finders

    assert finders.find("demo/demo.js") and finders.find("demo/demo.css")
