"""The stack benchmark (tests/bench/stack.py) at a small size: `make bench` checks that it
runs end to end; the figures in docs/benchmarks.md come from its full-size command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = [pytest.mark.bench, pytest.mark.services]


def test_stack_benchmark_runs_and_serves_without_5xx(tmp_path, postgres, redis_url):
    out = tmp_path / "stack.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.bench.stack",
            "--products",
            "400",
            "--base",
            "120",
            "--garments",
            "40",
            "--seconds",
            "5",
            "--batch",
            "4",
            "--trickle",
            "3",
            "--searches",
            "2",
            "--var-dir",
            str(tmp_path / "var"),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report["load"]["status"]) == {"200"}
    assert report["processing_default"]["closet_burst"]["status"] == {"ready": 4}
