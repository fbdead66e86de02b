"""Metrics that move, and one key=value log line per regeneration and per rejected request."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.clients import running_app
from tests.helpers.records import live_record
from tests.helpers.settings import build_settings
from tests.helpers.tokens import editor_header, metrics_header
from tests.helpers.waiting import wait_until


def metric(text: str, name: str) -> float:
    """The value of one sample line (`name` includes its labels), 0 when absent."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


async def test_metrics_move(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path)) as client:
        auth = await editor_header(client)
        scraper = await metrics_header(client)

        async def scrape() -> str:
            response = await client.get("/metrics", headers=scraper)
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            return await response.text()

        async def started() -> bool:
            text = await scrape()
            return (
                metric(text, 'syndicate_regenerations_total{outcome="changed",section="all"}') >= 1
            )

        await wait_until(started, timeout=5, what="the start-up regeneration in metrics")
        before = await scrape()
        response = await client.post(
            "/api/articles", json=live_record("m-1", sections=["global"]), headers=auth
        )
        assert response.status == 201
        response = await client.post(
            "/api/articles", json={"id": "bad", "headline": "no body"}, headers=auth
        )
        assert response.status == 422
        held = live_record(
            "m-held", sections=["global"], embargo_until=datetime.now(UTC) + timedelta(hours=1)
        )
        assert (await client.post("/api/articles", json=held, headers=auth)).status == 201
        await client.post("/api/regenerate", json={"sections": ["global"]}, headers=auth)
        ok = await client.get("/feeds/global/rss.xml")
        etag = ok.headers["ETag"]
        assert (
            await client.get("/feeds/global/rss.xml", headers={"If-None-Match": etag})
        ).status == 304
        assert (await client.get("/feeds/nowhere/rss.xml")).status == 404

        async def gauge_set() -> bool:
            return metric(await scrape(), "syndicate_pending_embargo_releases") == 1

        await wait_until(gauge_set, timeout=3, what="the pending releases gauge")
        after = await scrape()
        for name, grew in [
            ('syndicate_regenerations_total{outcome="changed",section="global"}', 1),
            ('syndicate_regeneration_seconds_count{section="global"}', 1),
            ('syndicate_feed_requests_total{status="200"}', 1),
            ('syndicate_feed_requests_total{status="304"}', 1),
            ('syndicate_feed_requests_total{status="404"}', 1),
            ('syndicate_ingested_records_total{outcome="created"}', 2),
            ('syndicate_ingested_records_total{outcome="rejected"}', 1),
        ]:
            assert metric(after, name) - metric(before, name) >= grew, name
        assert "syndicate_websub_pings" in after


REGENERATED = re.compile(
    r"^regenerated section=\S+ items=\d+ changed=(true|false) ms=\d+\.\d "
    r'seq=-?\d+ error=(-|\S+|"[^"]*")$'
)


async def test_one_log_line_per_regeneration_and_rejected_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_app(build_settings(tmp_path, run_scheduler=False)) as client:
        auth = await editor_header(client)
        caplog.clear()
        with caplog.at_level(logging.INFO):
            await client.post("/api/regenerate", json={"sections": ["global"]}, headers=auth)
            assert (await client.get("/api/status")).status == 401
        lines = [r.getMessage() for r in caplog.records if r.name == "syndicate.regenerate"]
        assert len(lines) == 1 and REGENERATED.match(lines[0]), lines
        assert "section=global" in lines[0]
        rejected = [r.getMessage() for r in caplog.records if "rejected request" in r.getMessage()]
        assert len(rejected) == 1, rejected
        assert re.fullmatch(
            r'rejected request method=GET path="/api/status" status=401 message=".+"', rejected[0]
        ), rejected[0]
