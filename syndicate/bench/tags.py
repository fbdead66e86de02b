"""Benchmark: tag feeds on the bench store (20,000 articles), cold and warm. Called by
`syndicate bench` on the store it has just filled and regenerated.

- cold: one tag feed (50 items) rendered on demand with its cache empty: the tag query, the
  render in a worker process (as served), ETag and gzip. Median over the corpus' 8 tags x
  3 formats x `repeats`, and the worst.
- warm: the same app on loopback under `syndicate.bench.loadgen` (a separate process, 32
  connections, gzip accepted): a tag feed from the cache, and a section feed for comparison.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

from aiohttp import web

from syndicate.bench.corpus import SECTIONS
from syndicate.core.clock import utc_now
from syndicate.core.config import Settings
from syndicate.pipeline.ondemand import OnDemandFeeds
from syndicate.pipeline.regenerate import Regenerator
from syndicate.render import FORMATS
from syndicate.service.metrics import Metrics
from syndicate.store.base import Store
from syndicate.web import feeds as feed_routes
from syndicate.web import reach
from syndicate.web.keys import CACHE, CLOCK, METRICS, REGENERATOR, SETTINGS, STORE

TAGS = ("politics", "economy", "cricket", "monsoon", "elections", "tech", "health", "world")


async def measure_tag_feeds(
    settings: Settings, store: Store, regenerator: Regenerator, repeats: int, seconds: float
) -> dict[str, float]:
    feeds = OnDemandFeeds(settings, store, regenerator.pool)
    await feeds.start()
    started = time.perf_counter()
    await store.index_changes()  # already done by the regeneration: this is the no-op cost
    figures = {"reach_index_noop_ms": (time.perf_counter() - started) * 1000}
    for tag in TAGS[:2]:  # start the workers and the store's caches: not measured
        feeds.clear()
        await feeds.tag_feed(tag, "rss")
    cold: list[float] = []
    for _ in range(max(1, repeats // 3)):
        for tag in TAGS:
            for name in FORMATS:
                feeds.clear()
                started = time.perf_counter()
                doc = await feeds.tag_feed(tag, name)
                cold.append((time.perf_counter() - started) * 1000)
                if doc is None:
                    raise RuntimeError(f"bench: no tag feed for {tag!r}")
    figures["tag_feed_cold_ms"] = statistics.median(cold)
    figures["tag_feed_cold_worst_ms"] = max(cold)
    figures.update(await _warm(feeds, regenerator, seconds))
    return figures


async def _warm(feeds: OnDemandFeeds, regenerator: Regenerator, seconds: float) -> dict[str, float]:
    """Serve a tag feed and a section feed from memory under load; req/s and p50 of each."""
    app = web.Application()
    app[SETTINGS] = feeds.settings
    app[STORE] = feeds.store
    app[CACHE] = regenerator.cache
    app[METRICS] = Metrics()
    app[REGENERATOR] = regenerator
    app[CLOCK] = utc_now
    feed_routes.setup(app, feeds.settings)
    reach.setup(app)  # its own on-demand cache, warmed by the first request
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    out: dict[str, float] = {}
    try:
        for label, path in (
            ("tag_feed_warm", "/feeds/tag/cricket/rss.xml"),
            ("section_feed_warm", f"/feeds/{SECTIONS[0]}/rss.xml"),
        ):
            result = await _load(f"http://127.0.0.1:{port}{path}", seconds)
            if set(result.get("statuses", {})) - {"200"}:
                raise RuntimeError(f"bench: {path} answered {result['statuses']}")
            out[f"{label}_rps"] = float(result["rps"])
            out[f"{label}_p50_ms"] = float(result["p50_ms"])
    finally:
        await runner.cleanup()
    return out


async def _load(url: str, seconds: float) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syndicate.bench.loadgen",
        url,
        "--seconds",
        str(seconds),
        "--connections",
        "32",
        "-H",
        "Accept-Encoding: gzip",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    result: dict[str, Any] = json.loads(out)
    return result
