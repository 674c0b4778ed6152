"""End to end through HTTP with a real worker: the real-photo run (small) and a short load run.

Run: ``make bench PYTEST_ARGS="-k e2e -s"``. The real-photo test reads ``SHARED_DATA``
(default /work/shared/data) and skips where the photos are absent. The full-size runs and
their figures are in docs/benchmarks.md ("End to end on real photos", "Load and faults").
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from apps.recommendations.retrieval import index_store
from ml.registry import reset_registry

pytestmark = [pytest.mark.bench, pytest.mark.e2e, pytest.mark.services]

DATA = Path(os.environ.get("SHARED_DATA", "/work/shared/data"))


@pytest.fixture
def fresh_indexes():
    shutil.rmtree(settings.INDEX_DIR, ignore_errors=True)
    index_store.cache_clear()
    reset_registry()
    yield
    index_store.cache_clear()


def test_real_photos_end_to_end_leave_owned_products_out(
    celery_worker_process, live_server, fresh_indexes, tmp_path
):
    if not (DATA / "clothing-small" / "train").is_dir() or not (DATA / "street-photos").is_dir():
        pytest.skip(f"The real photos are not at {DATA} (set SHARED_DATA).")
    out = tmp_path / "real.json"

    call_command(
        "e2e_real_photos",
        data=DATA,
        base_url=live_server.url,
        catalog_per_class=6,
        closet_per_class=1,
        owned_from_catalog=4,
        queries_per_class=2,
        street=6,
        json=out,
    )

    figures = json.loads(out.read_text())
    assert figures["owned_leaks"] == []
    assert figures["owned_products_seen"] >= 4  # the catalog photos put in the closet
    assert figures["closet_not_ready"] == []
    assert figures["validation"]["queries"] == 16 and figures["validation"]["failed"] == 0
    assert figures["street"]["queries"] > 0 and figures["street"]["failed"] == 0


def test_a_short_mixed_load_run_answers_no_5xx_and_loses_nothing(
    celery_worker_process, live_server, fresh_indexes, tmp_path, settings
):
    from apps.catalog.demo import demo_load

    demo_load(count=24)
    out = tmp_path / "load.json"

    call_command("load_test", base_url=live_server.url, users=2, seconds=8, settle=120, json=out)

    report = json.loads(out.read_text())
    assert report["requests"] > 20
    assert sum(row["5xx"] + row["conn"] for row in report["endpoints"]) == 0
    settle = report["settle"]
    assert settle["lost"] == 0 and settle["unexpected"] == 0
    assert set(settle["closet"]) <= {"ready"} and set(settle["searches"]) <= {"ready"}
