"""Smoke test of `syndicate bench --quick`: every figure is produced, and each is positive.

Timing targets are not asserted here (they live in the benchmark's own table).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from syndicate.bench.report import NGINX_FIGURES, TARGETS, format_table
from syndicate.pipeline.nginx import nginx_binary


@pytest.mark.slow
def test_bench_quick_produces_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "syndicate", "bench", "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # no syndicate.toml here: the bench brings its own sections
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    figures = report["figures"]
    # nginx's figures need Debian's nginx: required where CI says so, else only when present.
    nginx = nginx_binary() is not None or os.environ.get("SYNDICATE_REQUIRE_NGINX") == "1"
    for key in TARGETS:
        if key in NGINX_FIGURES and not nginx:
            continue
        value = figures.get(key)
        assert isinstance(value, int | float), f"{key} missing: {value!r}"
        if key == "section_regeneration_growth_pct":
            assert value >= 0, key  # a difference: zero is possible
        else:
            assert value > 0, f"{key} = {value}"
    machine = report["machine"]
    assert machine["cores"] >= 1
    assert machine["python"].count(".") == 2
    assert machine["libraries"]["aiohttp"]
    # The table printed on stdout names every figure the JSON has.
    assert "ingest" in run.stdout and "newsMessage" in run.stdout
    assert format_table(report).splitlines()[0].startswith("figure")
