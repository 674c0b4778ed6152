"""The demo page in headless Chromium against the live server, the demo catalog and a real
worker: sign up, add a closet photo and watch it become ready, search with a photo, tap
the boxed garment, see recommendations (the owned product left out), the style-matched
shops, a wannabe look and the feed. Screenshots go to var/screenshots/demo/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from apps.catalog.demo import demo_load
from apps.catalog.models import Product, ProductImage
from apps.recommendations.retrieval import index_store
from ml.registry import reset_registry
from tests.support import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.services]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = ROOT / "var" / "screenshots" / "demo"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,2400",
)


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            "Headless Chromium is absent: apt-get install -y chromium chromium-driver "
            "(/usr/bin/chromium and /usr/bin/chromedriver)."
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        shoot(driver, "last")  # what the page showed at the end, failed or not
        driver.quit()


def main_image(product: Product) -> Path:
    image = ProductImage.objects.filter(product=product).order_by("position").first()
    assert image is not None
    return Path(image.file.path)


def shoot(driver, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_a_user_signs_in_fills_the_closet_and_shops_a_look_in_the_browser(
    celery_worker_process, live_server, browser, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    shutil.rmtree(settings.INDEX_DIR, ignore_errors=True)
    index_store.cache_clear()
    reset_registry()
    summary = demo_load(count=48)  # the worker may encode some of them first
    assert set(summary.indexes) == {"top", "bottom", "outer", "dress"}
    assert ProductImage.objects.exclude(status="ready").count() == 0
    tops = list(Product.objects.filter(category="top").order_by("pk"))
    owned, bottom = tops[0], Product.objects.filter(category="bottom").order_by("pk").first()
    closet_photo, search_photo = main_image(owned), main_image(owned)
    look_photo = main_image(bottom)

    wait = WebDriverWait(browser, 30)
    browser.get(f"{live_server.url}/demo/")
    assert "Shop the look" in browser.title or "demo" in browser.title.lower()

    # Sign up with email + password (the development login).
    form = browser.find_element(By.ID, "signin-form")
    form.find_element(By.NAME, "email").send_keys("mina@example.com")
    form.find_element(By.NAME, "password").send_keys("a-long-pass-phrase-9")
    form.find_element(By.CSS_SELECTOR, "button[value=signup]").click()
    wait.until(ec.visibility_of_element_located((By.ID, "closet-form")))
    assert browser.find_element(By.ID, "who-email").text == "mina@example.com"

    # A closet photo: pending at first, then ready (the page polls).
    closet = browser.find_element(By.ID, "closet-form")
    closet.find_element(By.NAME, "photo").send_keys(str(closet_photo))
    Select(closet.find_element(By.NAME, "category")).select_by_value("top")
    closet.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#closet-items li[data-item]")))
    wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#closet-items li[data-status=ready]"))
    )
    tile = browser.find_element(By.CSS_SELECTOR, "#closet-items li[data-status=ready] img")
    assert browser.execute_script("return arguments[0].naturalWidth", tile) > 0
    shoot(browser, "1-closet-ready")

    # A search photo: the garment is boxed over the photo.
    search = browser.find_element(By.ID, "search-form")
    search.find_element(By.NAME, "photo").send_keys(str(search_photo))
    Select(search.find_element(By.NAME, "category")).select_by_value("top")
    search.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#search-photo .box")))
    photo = browser.find_element(By.CSS_SELECTOR, "#search-photo img")
    # The box lies over the displayed photo (scaled from the photo's pixels).
    assert box.size["width"] > 20 and box.size["height"] > 20
    assert box.location["x"] >= photo.location["x"] - 1
    assert box.location["x"] + box.size["width"] <= photo.location["x"] + photo.size["width"] + 1
    assert box.location["y"] + box.size["height"] <= photo.location["y"] + photo.size["height"] + 1
    assert box.text == "top"

    # Tap it: recommendations with images, prices, shops and links; the owned top left out.
    box.click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#recs .card")))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#shops .shop .card")))
    cards = browser.find_elements(By.CSS_SELECTOR, "#recs .card")
    shown = [int(c.get_attribute("data-product")) for c in cards]
    assert owned.pk not in shown
    left_out = browser.find_element(By.CSS_SELECTOR, "#recs .left-out").text
    assert int(left_out.split()[0]) >= 1, left_out
    first = cards[0]
    assert first.find_element(By.CSS_SELECTOR, ".price").text.strip()
    assert first.find_element(By.CSS_SELECTOR, "a").get_attribute("href").startswith("https://")
    assert browser.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth",
        first.find_element(By.TAG_NAME, "img"),
    )
    categories = set(
        Product.objects.filter(pk__in=shown).values_list("category", flat=True).distinct()
    )
    assert categories == {"top"}
    shops = browser.find_elements(By.CSS_SELECTOR, "#shops .shop")
    assert 1 <= len(shops) <= 3  # those carrying the garment's style (few in a small catalog)
    assert all(1 <= len(s.find_elements(By.CSS_SELECTOR, ".card")) <= 3 for s in shops)
    browser.execute_script("document.getElementById('search').scrollIntoView()")
    shoot(browser, "2-search-recommendations")

    # A wannabe look of a bottom the user does not own: missing, with products to buy.
    look = browser.find_element(By.ID, "look-form")
    look.find_element(By.NAME, "photo").send_keys(str(look_photo))
    look.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    share = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#look-result .owned-share"))
    )
    assert "You own 0% of this look" in share.text
    row = browser.find_element(By.CSS_SELECTOR, "#look-result .look-garment")
    assert row.get_attribute("data-owned") == "false"
    assert row.find_elements(By.CSS_SELECTOR, ".card")

    browser.execute_script("document.getElementById('look').scrollIntoView()")
    shoot(browser, "3-look")

    # The feed (reloaded once the closet item was ready) never shows the owned product.
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#feed-items .card")))
    feed = [
        int(c.get_attribute("data-product"))
        for c in browser.find_elements(By.CSS_SELECTOR, "#feed-items .card")
    ]
    assert feed and owned.pk not in feed
    browser.execute_script("document.getElementById('feed').scrollIntoView()")
    shoot(browser, "4-feed")
    assert not browser.find_element(By.ID, "message").text.startswith("HTTP")
