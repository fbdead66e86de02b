"""Measuring a running app end to end: a save going out with no one pressing regenerate, and
pushes reaching partners' receivers (delay per change, throughput to many at once).

Each runs the real app (scheduler on, defaults for `publish_delay`) on loopback with SQLite
in a temporary folder; receivers are aiohttp servers on loopback that answer 204.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from syndicate.core.config import Settings, settings_from_mapping
from syndicate.core.tokens import new_token
from syndicate.web.app import create_app
from syndicate.web.keys import STORE

SECTION = "global"
FEED = f"/feeds/{SECTION}/rss.xml"


def _settings(folder: Path) -> Settings:
    return settings_from_mapping(
        {"sections": {SECTION: {"title": "Global"}}},
        environ={},
        database_url=f"sqlite:///{folder / 'store.db'}",
        feeds_dir=str(folder / "feeds"),
        regen_interval=3600,
        run_scheduler=True,
    )


def _record(article_id: str) -> dict[str, Any]:
    return {
        "id": article_id,
        "headline": f"Saved {article_id}",
        "body_html": f"<p>{article_id}</p>",
        "language": "en",
        "sections": [SECTION],
        "published": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
        "canonical_url": f"https://bench.example/{article_id}",
    }


@asynccontextmanager
async def _app(settings: Settings) -> AsyncIterator[tuple[aiohttp.ClientSession, web.Application]]:
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as session:
            yield session, app
    finally:
        await runner.cleanup()


async def _token(app: web.Application, role: str, sections: tuple[str, ...] = ()) -> str:
    secret, digest = new_token()
    await app[STORE].add_token(
        name=f"bench-{role}",
        role=role,  # type: ignore[arg-type]
        token_hash=digest,
        sections=sections,
        now=datetime.now(UTC),
    )
    return secret


async def measure_save_to_served(count: int, *, poll: float = 0.005) -> dict[str, float]:
    """From `POST /api/articles` answering to the changed feed being served, `count` saves."""
    delays: list[float] = []
    with tempfile.TemporaryDirectory(prefix="syndicate-bench-") as tmp:
        settings = _settings(Path(tmp))
        async with _app(settings) as (session, app):
            auth = {"Authorization": f"Bearer {await _token(app, 'editor')}"}
            etag = ""
            for n in range(count):
                article_id = f"bench-save-{n:03d}"
                async with session.post(
                    "/api/articles", json=_record(article_id), headers=auth
                ) as r:
                    if r.status != 201:
                        raise RuntimeError(f"save answered {r.status}: {await r.text()}")
                saved = time.monotonic()
                deadline = saved + 30
                while True:
                    headers = {"If-None-Match": etag} if etag else {}
                    async with session.get(FEED, headers=headers) as response:
                        if response.status == 200:
                            etag = response.headers["ETag"]
                            if article_id in await response.text():
                                break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{article_id} not served 30 s after its save")
                    await asyncio.sleep(poll)
                delays.append((time.monotonic() - saved) * 1000)
    return {"median_ms": statistics.median(delays), "worst_ms": max(delays)}


class _Receiver:
    """Counts deliveries (by idempotency key) and when each first arrived."""

    def __init__(self) -> None:
        self.first: dict[tuple[str, str], float] = {}
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        key = (request.match_info["dest"], request.headers.get("Idempotency-Key", ""))
        self.first.setdefault(key, time.monotonic())
        self.arrived.set()
        return web.Response(status=204)


async def measure_push(destinations: int, items: int) -> dict[str, float]:
    """Delivery delay with a healthy receiver (one destination, `items` changes one at a
    time), then throughput: `items` changes pushed to `destinations` destinations at once."""
    receiver = _Receiver()
    inbox = web.Application()
    inbox.router.add_post("/inbox/{dest}", receiver.handle)
    runner = web.AppRunner(inbox, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    inbox_url = f"http://127.0.0.1:{runner.addresses[0][1]}/inbox"
    try:
        with tempfile.TemporaryDirectory(prefix="syndicate-bench-") as tmp:
            settings = _settings(Path(tmp))
            async with _app(settings) as (session, app):
                auth = {"Authorization": f"Bearer {await _token(app, 'editor')}"}
                admin = {"Authorization": f"Bearer {await _token(app, 'admin')}"}
                await _token(app, "partner", (SECTION,))
                one = await _subscribe(session, admin, f"{inbox_url}/one")
                delays = await _one_at_a_time(session, auth, receiver, one, items)
                for n in range(destinations):
                    await _subscribe(session, admin, f"{inbox_url}/d{n}")
                deliveries, seconds = await _all_at_once(
                    session, auth, receiver, destinations, items
                )
    finally:
        await runner.cleanup()
    return {
        "delay_median_ms": statistics.median(delays),
        "delay_worst_ms": max(delays),
        "deliveries": float(deliveries),
        "deliveries_per_s": deliveries / seconds,
    }


async def _subscribe(session: aiohttp.ClientSession, admin: dict[str, str], url: str) -> str:
    """A push destination for the bench's partner, added as an admin does (`POST /api/push`)."""
    wanted = {"partner": "bench-partner", "url": url, "format": "ninjs"}
    async with session.post("/api/push", json=wanted, headers=admin) as r:
        if r.status != 201:
            raise RuntimeError(f"adding a destination answered {r.status}: {await r.text()}")
        return str((await r.json())["id"])


async def _save(session: aiohttp.ClientSession, auth: dict[str, str], article_id: str) -> None:
    async with session.post("/api/articles", json=_record(article_id), headers=auth) as r:
        if r.status != 201:
            raise RuntimeError(f"save answered {r.status}: {await r.text()}")


async def _one_at_a_time(
    session: aiohttp.ClientSession,
    auth: dict[str, str],
    receiver: _Receiver,
    destination: str,
    items: int,
) -> list[float]:
    delays = []
    for n in range(items):
        before = len(receiver.first)
        saved = time.monotonic()  # from the request: the change is stored while it runs
        await _save(session, auth, f"bench-push-{n:03d}")
        while len(receiver.first) == before:
            receiver.arrived.clear()
            try:
                await asyncio.wait_for(receiver.arrived.wait(), 30)
            except TimeoutError:
                raise RuntimeError(f"push {n} not delivered to {destination} in 30 s") from None
        delays.append((max(receiver.first.values()) - saved) * 1000)
    return delays


async def _all_at_once(
    session: aiohttp.ClientSession,
    auth: dict[str, str],
    receiver: _Receiver,
    destinations: int,
    items: int,
) -> tuple[int, float]:
    def arrived() -> list[float]:
        return [when for (dest, _), when in receiver.first.items() if dest.startswith("d")]

    started = time.monotonic()
    await asyncio.gather(*(_save(session, auth, f"bench-wide-{n:03d}") for n in range(items)))
    wanted = destinations * items
    deadline = started + 120
    while len(arrived()) < wanted:
        receiver.arrived.clear()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{wanted - len(arrived())} pushes missing after 120 s")
        try:
            await asyncio.wait_for(receiver.arrived.wait(), 5)
        except TimeoutError:
            continue
    return wanted, max(arrived()) - started
