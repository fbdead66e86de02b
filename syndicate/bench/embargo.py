"""Benchmark: how long after an embargo ends the changed feed is served.

Runs a real app (scheduler on, hourly timer, SQLite in a temporary folder) on loopback, holds
`count` articles with staggered embargoes, and polls the feed (conditional GET every ~5 ms):
first time the article is seen minus its `embargo_until`. Called by `syndicate bench`.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from syndicate.core.config import settings_from_mapping
from syndicate.store import open_store
from syndicate.validate import validate_record
from syndicate.web.app import create_app

SECTION = "global"
FEED = f"/feeds/{SECTION}/rss.xml"


def _record(article_id: str, release_at: datetime) -> dict[str, Any]:
    return {
        "id": article_id,
        "headline": f"Embargoed {article_id}",
        "body_html": f"<p>{article_id}</p>",
        "language": "en",
        "sections": [SECTION],
        "published": (release_at - timedelta(hours=1)).isoformat(timespec="milliseconds"),
        "embargo_until": release_at.isoformat(timespec="milliseconds"),
        "canonical_url": f"https://bench.example/{article_id}",
    }


async def measure_release_delays(
    count: int = 20, *, lead: float = 2.0, poll: float = 0.005
) -> dict[str, float]:
    """Median and worst delay (ms) between embargo end and the feed serving the article.

    Embargoes are 1–2 s apart (the fraction varies so releases fall at every phase of the
    scheduler's one-second sync). `early` counts articles served before their embargo (must
    be 0). Takes about `lead + 1.5 * count` seconds.
    """
    with tempfile.TemporaryDirectory(prefix="syndicate-bench-") as tmp:
        folder = Path(tmp)
        settings = settings_from_mapping(
            {"sections": {SECTION: {"title": "Global"}}},
            environ={},
            database_url=f"sqlite:///{folder / 'store.db'}",
            feeds_dir=str(folder / "feeds"),
            regen_interval=3600,
            run_scheduler=True,
        )
        start = datetime.now(UTC) + timedelta(seconds=lead)
        releases: list[tuple[str, datetime]] = []
        when = start
        for i in range(count):
            releases.append((f"bench-embargo-{i:03d}", when))
            when += timedelta(seconds=1.0 + (i * 0.37) % 1.0)
        # Stored before the app starts: the scheduler must find them in the store (as after
        # a CLI ingest or a restart), not be told by the API.
        store = open_store(settings.database_url)
        await store.open()
        try:
            for article_id, release_at in releases:
                await store.put(
                    validate_record(_record(article_id, release_at), settings),
                    now=datetime.now(UTC),
                )
        finally:
            await store.close()

        runner = web.AppRunner(create_app(settings), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        delays: list[float] = []
        early = 0
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as session:
                etag = ""
                body = ""
                for article_id, release_at in releases:
                    release = release_at.timestamp()
                    deadline = release + 10.0
                    while True:
                        headers = {"If-None-Match": etag} if etag else {}
                        async with session.get(FEED, headers=headers) as response:
                            if response.status == 200:
                                etag = response.headers["ETag"]
                                body = await response.text()
                        seen = time.time()
                        if article_id in body:
                            if seen < release:
                                early += 1
                            delays.append((seen - release) * 1000)
                            break
                        if seen > deadline:
                            raise RuntimeError(f"{article_id} not served 10 s after release")
                        await asyncio.sleep(poll)
        finally:
            await runner.cleanup()
    return {
        "count": float(len(delays)),
        "median_ms": round(statistics.median(delays), 1),
        "worst_ms": round(max(delays), 1),
        "early": float(early),
    }


if __name__ == "__main__":
    print(asyncio.run(measure_release_delays()))
