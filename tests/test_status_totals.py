"""Status shows the store at a glance: articles published, held and withdrawn, on every store,
in `GET /api/status` and in `syndicate status`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicate.core.config import Settings
from syndicate.store.base import Store
from tests.helpers.clients import running_app
from tests.helpers.records import live_record, validated_record
from tests.helpers.settings import build_settings
from tests.helpers.tokens import editor_header
from tests.helpers.waiting import wait_until

NOW = datetime(2030, 1, 1, tzinfo=UTC)


async def test_totals_count_each_status_and_follow_releases(store: Store, small: Settings) -> None:
    assert await store.totals() == {"published": 0, "held": 0, "withdrawn": 0}
    held = (NOW + timedelta(hours=1)).isoformat()
    for n in range(3):
        await store.put(validated_record(f"public-{n}", small), now=NOW)
    await store.put(validated_record("held", small, embargo_until=held), now=NOW)
    await store.put(validated_record("killed", small), now=NOW)
    await store.withdraw("killed", now=NOW)
    assert await store.totals() == {"published": 3, "held": 1, "withdrawn": 1}
    await store.release_due(now=NOW + timedelta(hours=2))
    assert await store.totals() == {"published": 4, "held": 0, "withdrawn": 1}


async def test_the_status_endpoint_shows_the_totals(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path, run_scheduler=False)) as client:
        editor = await editor_header(client)
        later = datetime.now(UTC) + timedelta(hours=1)
        for body in (
            live_record("a", sections=["global"]),
            live_record("b", sections=["global"], embargo_until=later),
        ):
            assert (await client.post("/api/articles", json=body, headers=editor)).status == 201
        resp = await client.get("/api/status", headers=editor)
        assert (await resp.json())["articles"] == {"published": 1, "held": 1, "withdrawn": 0}


@pytest.mark.parametrize(("delay", "within"), [(600.0, 600), (0.0, 3600)])  # publish run, timer
async def test_status_says_which_sections_wait_and_when_they_go_out(
    tmp_path: Path, delay: float, within: int
) -> None:
    settings = build_settings(tmp_path / str(delay), publish_delay=delay, regen_interval=3600)
    async with running_app(settings) as client:
        editor = await editor_header(client)
        body = live_record(f"a-{delay}", sections=["global"])

        async def status() -> dict[str, dict[str, object]]:
            resp = await client.get("/api/status", headers=editor)
            return {s["section"]: s for s in (await resp.json())["sections"]}

        async def settled() -> bool:  # the start-up run has rendered everything
            return not any(s["changes_waiting"] for s in (await status()).values())

        await wait_until(settled, timeout=20, what="the start-up regeneration")
        assert (await client.post("/api/articles", json=body, headers=editor)).status == 201
        sections = await status()
        assert sections["global"]["changes_waiting"] and sections["all"]["changes_waiting"]
        assert not sections["sport"]["changes_waiting"] and sections["sport"]["goes_out"] is None
        out = datetime.fromisoformat(str(sections["global"]["goes_out"]))
        assert timedelta(0) < out - datetime.now(UTC) <= timedelta(seconds=within)
