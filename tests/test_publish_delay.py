"""A story goes out when it is saved: within `publish_delay`, with nobody pressing regenerate.

Each app runs on a SQLite store in tmp_path behind a loopback server, with an hourly timer:
anything served sooner came from the publish delay (no test calls the regenerate API).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from syndicate.pipeline.regenerate import SectionResult
from syndicate.service.schedule import PUBLISH_JOB, WATCH_JOB
from syndicate.store.sqlite import SQLiteStore
from syndicate.web.keys import REGENERATOR, SCHEDULER, STORE
from tests.helpers.clients import Client, feed_text, running_app
from tests.helpers.records import live_record
from tests.helpers.settings import build_settings
from tests.helpers.tokens import editor_header
from tests.helpers.waiting import wait_until

DELAY = 0.5
# What a run itself may take on a slow machine, on top of the delay.
DEADLINE = 2.0


def marker(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def started(client: Client) -> None:
    """Wait for the start-up full regeneration to serve the feeds this module reads."""

    async def ready() -> bool:
        return all([await feed_text(client, s, "rss.xml") is not None for s in ("sport", "all")])

    await wait_until(ready, timeout=10, what="the start-up regeneration")


async def served_in(client: Client, text: str, sections: list[str]) -> bool:
    """Every reader format of `sections` carries `text`."""
    for section in sections:
        for name in ("rss.xml", "atom.xml", "feed.json"):
            body = await feed_text(client, section, name)
            if body is None or text not in body:
                return False
    return True


async def served_nowhere(client: Client, text: str, sections: list[str]) -> bool:
    for section in sections:
        for name in ("rss.xml", "atom.xml", "feed.json"):
            body = await feed_text(client, section, name)
            if body is None or text in body:
                return False
    return True


async def test_a_save_goes_out_within_the_publish_delay(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path, publish_delay=DELAY)) as client:
        await started(client)
        auth = await editor_header(client)
        story = marker("saved")
        saved_at = time.time()
        response = await client.post(
            "/api/articles", json=live_record(story, sections=["sport"]), headers=auth
        )
        assert response.status == 201, await response.text()

        seen = await wait_until(
            lambda: served_in(client, f"headline {story}", ["sport", "all"]),
            timeout=DELAY + DEADLINE,
            what=f"{story} in the sport and all feeds",
        )
        assert seen - saved_at <= DELAY + DEADLINE
        # The timer never ran: it was the publish delay.
        assert "regenerate-changed" not in client.app[SCHEDULER].last_runs


async def test_a_withdrawal_leaves_the_feed_within_the_publish_delay(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path, publish_delay=DELAY)) as client:
        await started(client)
        auth = await editor_header(client)
        story = marker("killed")
        headline = f"headline {story}"
        response = await client.post(
            "/api/articles", json=live_record(story, sections=["sport"]), headers=auth
        )
        assert response.status == 201, await response.text()
        await wait_until(
            lambda: served_in(client, headline, ["sport", "all"]),
            timeout=DELAY + DEADLINE,
            what=f"{story} in the feeds",
        )

        withdrawn_at = time.time()
        response = await client.delete(f"/api/articles/{story}", headers=auth)
        assert response.status == 200, await response.text()
        gone = await wait_until(
            lambda: served_nowhere(client, headline, ["sport", "all"]),
            timeout=DELAY + DEADLINE,
            what=f"{story} to leave the feeds",
        )
        assert gone - withdrawn_at <= DELAY + DEADLINE


async def test_a_burst_of_saves_makes_one_run_or_two(tmp_path: Path) -> None:
    delay = 1.0
    async with running_app(build_settings(tmp_path, publish_delay=delay)) as client:
        await started(client)
        auth = await editor_header(client)
        runs: list[SectionResult] = []
        client.app[REGENERATOR].observers.append(runs.append)
        stories = [marker(f"burst{n}") for n in range(20)]
        # Only runs that read the store after the burst began (the start-up run's observers
        # may still be firing, just after it served).
        before = max((await client.app[STORE].section_seqs()).values(), default=0)

        async def save(story: str) -> None:
            response = await client.post(
                "/api/articles", json=live_record(story, sections=["sport"]), headers=auth
            )
            assert response.status == 201, await response.text()

        first_at = time.time()
        await asyncio.gather(*(save(s) for s in stories))
        saved_in = time.time() - first_at

        after = max((await client.app[STORE].section_seqs()).values())

        async def all_out() -> bool:
            # Observed too: observers fire just after the run serves its feeds.
            if not any(r.section == "sport" and r.seq >= after for r in runs):
                return False
            body = await feed_text(client, "sport", "rss.xml")
            return body is not None and all(f"headline {s}" in body for s in stories)

        await wait_until(all_out, timeout=delay + DEADLINE, what="the 20 stories in sport")
        sport_runs = [r for r in runs if r.section == "sport" and r.seq > before]
        # One run for the burst; a second only if the saves took longer than the delay.
        assert 1 <= len(sport_runs) <= (1 if saved_in < delay else 2), (
            f"{len(sport_runs)} runs for 20 saves made in {saved_in:.3f} s"
        )


async def test_a_stream_of_saves_does_not_postpone_the_first(tmp_path: Path) -> None:
    delay = 1.0
    async with running_app(build_settings(tmp_path, publish_delay=delay)) as client:
        await started(client)
        auth = await editor_header(client)
        first = marker("first")
        first_at = time.time()
        response = await client.post(
            "/api/articles", json=live_record(first, sections=["sport"]), headers=auth
        )
        assert response.status == 201

        async def stream() -> None:
            # A save every 0.2 s, for longer than the delay and the deadline together.
            while True:
                await client.post(
                    "/api/articles",
                    json=live_record(marker("more"), sections=["sport"]),
                    headers=auth,
                )
                await asyncio.sleep(0.2)

        streaming = asyncio.ensure_future(stream())
        try:
            seen = await wait_until(
                lambda: served_in(client, f"headline {first}", ["sport"]),
                timeout=delay + DEADLINE,
                what=f"{first} while other saves keep coming",
            )
        finally:
            streaming.cancel()
            await asyncio.gather(streaming, return_exceptions=True)
        assert seen - first_at <= delay + DEADLINE


async def test_publish_delay_zero_leaves_only_the_timer(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path, publish_delay=0)) as client:
        await started(client)
        scheduler = client.app[SCHEDULER]
        auth = await editor_header(client)
        story = marker("timer-only")
        headline = f"headline {story}"
        response = await client.post(
            "/api/articles", json=live_record(story, sections=["sport"]), headers=auth
        )
        assert response.status == 201
        # No run is due and nobody watches for changes: only the (hourly) timer.
        assert scheduler.aps.get_job(PUBLISH_JOB) is None
        assert scheduler.aps.get_job(WATCH_JOB) is None
        # Longer than a publish delay of 0.5 s plus a poll would have taken.
        until = time.monotonic() + 1.5
        while time.monotonic() < until:
            body = await feed_text(client, "sport", "rss.xml")
            assert body is not None and headline not in body, "published without the timer"
            await asyncio.sleep(0.1)

        await scheduler.regenerate_changed()  # the timer's job, as it fires
        assert await served_in(client, headline, ["sport", "all"])


async def test_a_change_stored_by_another_process_goes_out_too(tmp_path: Path) -> None:
    # `syndicate ingest` from a shell writes the store directly: the leader hears of it only
    # by watching the store's change seqs.
    async with running_app(build_settings(tmp_path, publish_delay=DELAY)) as client:
        await started(client)
        story = marker("cli")
        other = SQLiteStore(f"sqlite:///{tmp_path / 'store.db'}")
        await other.open()
        try:
            stored_at = time.time()
            await other.put(live_record(story, sections=["sport"]), now=datetime.now(UTC))
        finally:
            await other.close()
        seen = await wait_until(
            lambda: served_in(client, f"headline {story}", ["sport", "all"]),
            timeout=DELAY + DEADLINE,
            what=f"{story}, stored elsewhere, in the feeds",
        )
        assert seen - stored_at <= DELAY + DEADLINE
