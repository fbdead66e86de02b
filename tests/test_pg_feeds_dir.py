"""Every process keeps its feeds folder: a follower writes the bytes it loads and serves.

Two apps on one PostgreSQL schema, each with its own SYNDICATE_FEEDS_DIR; only the first
regenerates. The second's folder must hold what it serves within a second, both when it starts
(feeds saved before it ran) and after a change made on the first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from syndicate.web.keys import REGENERATOR, STORE
from tests.helpers.clients import running_app
from tests.helpers.records import live_record
from tests.helpers.settings import build_settings
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.postgres


async def _folder_matches_served(client: TestClient[Any, Any], folder: Path) -> bool:
    """Every feed stored is in `folder` with exactly the bytes `client` serves."""
    docs = await client.app[STORE].load_feeds()
    if not docs:
        return False
    for doc in docs:
        path = folder / doc.section / doc.name
        response = await client.get(f"/feeds/{doc.section}/{doc.name}")
        served = await response.read()
        if response.status != 200 or not path.is_file() or path.read_bytes() != served:
            return False
    return True


async def test_a_follower_writes_what_it_serves(tmp_path: Path, pg_url: str) -> None:
    leader_dir, follower_dir = tmp_path / "leader-feeds", tmp_path / "follower-feeds"
    leader_settings = build_settings(
        tmp_path / "a", database_url=pg_url, feeds_dir=str(leader_dir), run_scheduler=False
    )
    follower_settings = build_settings(
        tmp_path / "b", database_url=pg_url, feeds_dir=str(follower_dir), run_scheduler=False
    )
    async with running_app(leader_settings) as leader:
        await leader.app[STORE].put(live_record("first", sections=["sport"]), now=datetime.now(UTC))
        await leader.app[REGENERATOR].regenerate()
        async with running_app(follower_settings) as follower:
            await wait_until(
                lambda: _folder_matches_served(follower, follower_dir),
                timeout=1.0,
                what="a fresh follower's folder to hold the stored feeds",
            )
            await leader.app[STORE].put(
                live_record("second", sections=["sport"]), now=datetime.now(UTC)
            )
            await leader.app[REGENERATOR].regenerate(["sport"])

            async def has_second() -> bool:
                path = follower_dir / "sport" / "rss.xml"
                return (
                    path.is_file()
                    and b"headline second" in path.read_bytes()
                    and await _folder_matches_served(follower, follower_dir)
                )

            await wait_until(has_second, timeout=1.0, what="the follower's folder to follow")
