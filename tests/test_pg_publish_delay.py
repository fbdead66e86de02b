"""On PostgreSQL a story saved on a follower goes out within `publish_delay` too.

Two apps on one schema, both with the scheduler on (hourly timer): the first leads. A save
made through the second's API must reach both processes' feeds within the delay (the leader
learns of it by watching the store's change seqs; the follower reloads what it saved).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from syndicate.web.keys import SCHEDULER
from tests.helpers.clients import feed_text, running_app
from tests.helpers.records import live_record
from tests.helpers.settings import build_settings
from tests.helpers.tokens import editor_header
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.postgres

DELAY = 1.0
DEADLINE = 2.0


async def _carries(client: TestClient[Any, Any], text: str) -> bool:
    for section in ("sport", "all"):
        body = await feed_text(client, section, "rss.xml")
        if body is None or text not in body:
            return False
    return True


async def test_a_save_on_a_follower_goes_out_within_the_delay(tmp_path: Path, pg_url: str) -> None:

    def settings(name: str) -> Any:
        return build_settings(
            tmp_path / name,
            database_url=pg_url,
            feeds_dir=str(tmp_path / name / "feeds"),
            publish_delay=DELAY,
        )

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with running_app(settings("a")) as leader:

        async def leading() -> bool:
            return leader.app[SCHEDULER].is_leader

        await wait_until(leading, timeout=5, what="the first app to lead")
        async with running_app(settings("b")) as follower:

            async def following() -> bool:
                return follower.app[SCHEDULER].followed

            await wait_until(following, timeout=5, what="the second app to follow")
            assert not follower.app[SCHEDULER].is_leader
            await wait_until(
                lambda: _carries(follower, ""), timeout=5, what="the follower to serve feeds"
            )
            auth = await editor_header(follower)
            saved_at = time.time()
            response = await follower.post(
                "/api/articles", json=live_record("on-follower", sections=["sport"]), headers=auth
            )
            assert response.status == 201, await response.text()
            for client, who in ((leader, "leader"), (follower, "follower")):
                seen = await wait_until(
                    lambda c=client: _carries(c, "headline on-follower"),
                    timeout=saved_at + DELAY + DEADLINE - time.time(),
                    what=f"the follower's save in the {who}'s feeds",
                )
                assert seen - saved_at <= DELAY + DEADLINE
            assert "regenerate-changed" not in leader.app[SCHEDULER].last_runs
