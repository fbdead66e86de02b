"""Renders are ordered by the store state they read, not by the clock.

Two regenerators (two stores, two caches: two processes in all but the OS process) share one
PostgreSQL schema. Each round stores a new story, then regenerates its section on both at
once, one of them having started before the story was stored: whichever saves last, the
stored feed and both served feeds must carry the newest story, and no Last-Modified may be
later than the time it is looked at.
"""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicate.pipeline.regenerate import Regenerator
from syndicate.pipeline.served import FeedCache
from tests.helpers.records import live_record
from tests.helpers.settings import build_settings
from tests.helpers.stores import PgFactory

pytestmark = pytest.mark.postgres

ROUNDS = 200
SECTION = "sport"


def _titles(body: bytes) -> set[str]:
    return {t.text or "" for t in ET.fromstring(body).iter("title")}


async def test_the_newest_render_wins_whatever_order_renders_save_in(
    pg_factory: PgFactory, tmp_path: Path
) -> None:
    regenerators = []
    reloads: set[asyncio.Future[int]] = set()
    for name in ("a", "b"):
        store = pg_factory()
        await store.open()
        settings = build_settings(feeds_dir=str(tmp_path / name))
        regenerator = Regenerator(settings, store, FeedCache())
        # As the app's follower does: a save heard from elsewhere reloads that section.
        await store.subscribe_feeds(
            lambda section, r=regenerator: reloads.add(
                asyncio.ensure_future(r.load_published(section))
            )
        )
        regenerators.append(regenerator)
    first, second = regenerators
    await first.regenerate([SECTION])
    lost: list[int] = []
    deadline = time.monotonic() + 120
    for round_no in range(ROUNDS):
        assert time.monotonic() < deadline, f"only {round_no} rounds in the time allowed"
        headline = f"headline r{round_no}"
        # Alternate which side renders the older store state, so either may save last.
        older, newer = (first, second) if round_no % 2 else (second, first)
        stale = asyncio.ensure_future(older.regenerate([SECTION]))
        await asyncio.sleep(0)  # let it read the store before the story lands
        await newer.store.put(
            live_record(f"r{round_no}", sections=[SECTION]), now=datetime.now(UTC)
        )
        await asyncio.gather(stale, newer.regenerate([SECTION]))
        [stored] = [d for d in await first.store.load_feeds(SECTION) if d.name == "rss.xml"]
        if headline not in _titles(stored.body):
            lost.append(round_no)
            continue
        # Served: this process at once, the other as soon as it hears of the save.
        served_by = time.monotonic() + 5
        while True:
            served = [r.cache.get(SECTION, "rss.xml") for r in regenerators]
            if all(s is not None and headline in _titles(s.body) for s in served):
                break
            assert time.monotonic() < served_by, f"round {round_no}: not served everywhere"
            await asyncio.sleep(0.01)
        looked = datetime.now(UTC)
        for s in served:
            assert s is not None and s.last_modified <= looked, "Last-Modified in the future"
    assert not lost, f"{len(lost)} of {ROUNDS} rounds lost the newest story: {lost[:10]}"
