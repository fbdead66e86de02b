"""The timer, embargo releases and the editors' controls, through the real app.

Each app runs on a SQLite store in tmp_path behind a loopback server with the scheduler on
(hourly timer, so anything seen sooner came from a release job or an editor).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from syndicate.pipeline.regenerate import SectionResult
from syndicate.validate import validate_record
from syndicate.web.keys import REGENERATOR, SCHEDULER, STORE
from tests.helpers.clients import Client, feed_text, running_app
from tests.helpers.records import live_record
from tests.helpers.settings import SECTIONS, build_settings
from tests.helpers.tokens import editor_header
from tests.helpers.waiting import wait_until

FEED_NAMES = ("rss.xml", "atom.xml", "feed.json")
EVERY_SECTION = [*SECTIONS, "all"]
RELEASE_BOUND = 2.0  # seconds: the "appears within 2 s after release"


async def public_outputs(client: Client) -> dict[str, str]:
    """Every public document: each section's three feeds, `all`, the OPML and the index."""
    paths = [f"/feeds/{s}/{n}" for s in EVERY_SECTION for n in FEED_NAMES]
    paths += ["/feeds/opml.xml", "/"]

    async def fetch(path: str) -> str:
        response = await client.get(path)
        return await response.text() if response.status == 200 else ""

    bodies = await asyncio.gather(*(fetch(p) for p in paths))
    return dict(zip(paths, bodies, strict=True))


async def generated(client: Client) -> None:
    """Wait for the start-up full regeneration to have served every feed."""

    async def ready() -> bool:
        texts = [await feed_text(client, s, n) for s in EVERY_SECTION for n in FEED_NAMES]
        return all(t is not None for t in texts)

    await wait_until(ready, timeout=10, what="the start-up regeneration")
    # Feeds are served before their run is recorded (files are written in between).
    regenerator = client.app[REGENERATOR]

    async def recorded() -> bool:
        return all(regenerator.last_result(s) is not None for s in EVERY_SECTION)

    await wait_until(recorded, timeout=10, what="the start-up runs to be recorded")


async def assert_held_until(clients: list[Client], marker: str, release_at: datetime) -> int:
    """Poll every public output until `release_at`; the marker must appear in none of them.

    A poll counts only if all its answers arrived before the release instant. Returns how
    many polls were checked (so a test can tell it really looked).
    """
    checked = 0
    release = release_at.timestamp()
    while time.time() < release:
        for client in clients:
            outputs = await public_outputs(client)
            received = time.time()
            if received >= release:
                break
            leaked = [path for path, body in outputs.items() if marker in body]
            assert not leaked, f"{marker} served {release - received:.3f} s early in {leaked}"
            checked += 1
    return checked


async def assert_released(
    client: Client, marker: str, release_at: datetime, sections: list[str]
) -> float:
    """Every feed of `sections` and `all` carries the marker within 2 s; returns the delay."""
    paths = [(s, n) for s in [*sections, "all"] for n in FEED_NAMES]

    async def everywhere() -> bool:
        texts = await asyncio.gather(*(feed_text(client, s, n) for s, n in paths))
        return all(t is not None and marker in t for t in texts)

    remaining = release_at.timestamp() + RELEASE_BOUND - time.time()
    seen = await wait_until(everywhere, timeout=remaining, what=f"{marker} in {paths}")
    delay = seen - release_at.timestamp()
    assert delay <= RELEASE_BOUND, f"{marker} appeared {delay:.3f} s after its release"
    others = [s for s in SECTIONS if s not in sections]
    for section in others:
        text = await feed_text(client, section, "rss.xml")
        assert text is not None and marker not in text, f"{marker} leaked into {section}"
    return delay


async def test_embargoed_article_appears_on_time_and_never_before(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path)) as client:
        await generated(client)
        auth = await editor_header(client)
        marker = f"embargoed-{uuid.uuid4().hex[:8]}"
        release_at = datetime.now(UTC) + timedelta(seconds=3)
        response = await client.post(
            "/api/articles",
            json=live_record(marker, sections=["global", "top-story"], embargo_until=release_at),
            headers=auth,
        )
        assert response.status == 201, await response.text()

        assert await assert_held_until([client], marker, release_at) > 5
        await assert_released(client, marker, release_at, ["global", "top-story"])


async def test_future_published_time_holds_like_an_embargo(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path)) as client:
        await generated(client)
        auth = await editor_header(client)
        marker = f"future-{uuid.uuid4().hex[:8]}"
        release_at = datetime.now(UTC) + timedelta(seconds=3)
        response = await client.post(
            "/api/articles",
            json=live_record(marker, sections=["business"], published=release_at),
            headers=auth,
        )
        assert response.status == 201, await response.text()

        assert await assert_held_until([client], marker, release_at) > 5
        await assert_released(client, marker, release_at, ["business"])


async def test_release_survives_a_restart(tmp_path: Path) -> None:
    settings = build_settings(tmp_path)
    marker = f"restart-{uuid.uuid4().hex[:8]}"
    release_at = datetime.now(UTC) + timedelta(seconds=3)
    async with running_app(settings) as first:
        await generated(first)
        auth = await editor_header(first)
        response = await first.post(
            "/api/articles",
            json=live_record(marker, sections=["sport"], embargo_until=release_at),
            headers=auth,
        )
        assert response.status == 201, await response.text()
        outputs = await public_outputs(first)
        assert not [p for p, body in outputs.items() if marker in body]
    assert datetime.now(UTC) < release_at - timedelta(seconds=1), "the first app took too long"

    async with running_app(settings) as second:
        # Serving starts from the stored feeds: nothing early there either.
        assert await assert_held_until([second], marker, release_at) > 5
        await assert_released(second, marker, release_at, ["sport"])


async def test_scheduler_off_means_no_timer(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path, run_scheduler=False)) as client:
        assert SCHEDULER not in client.app
        auth = await editor_header(client)
        status = await (await client.get("/api/status", headers=auth)).json()
        assert status["scheduler"]["running"] is False
        assert status["scheduler"]["jobs"] == []
        # Nothing generated on its own: the feeds wait for an editor (or another process).
        assert await feed_text(client, "global", "rss.xml") is None


async def test_timer_regenerates_only_changed_sections(tmp_path: Path) -> None:
    runs: list[str] = []
    async with running_app(build_settings(tmp_path, regen_interval=1)) as client:
        client.app[REGENERATOR].observers.append(lambda r: runs.append(r.section))
        await generated(client)

        async def all_generated() -> bool:
            return set(EVERY_SECTION) <= set(runs)

        await wait_until(all_generated, timeout=5, what="the start-up run to be observed")
        auth = await editor_header(client)
        runs.clear()
        marker = f"timer-{uuid.uuid4().hex[:8]}"
        response = await client.post(
            "/api/articles", json=live_record(marker, sections=["business"]), headers=auth
        )
        assert response.status == 201

        async def in_feed() -> bool:
            text = await feed_text(client, "business", "atom.xml")
            return text is not None and marker in text

        await wait_until(in_feed, timeout=5, what="the timer to publish the article")

        async def observed() -> bool:
            # A run is observed once its files are written too: just after it is served.
            return {"business", "all"} <= set(runs)

        await wait_until(observed, timeout=5, what="the timer's runs to be observed")
        assert set(runs) == {"business", "all"}, runs


async def test_regenerate_one_section_and_all(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path, run_scheduler=False)) as client:
        auth = await editor_header(client)
        response = await client.post("/api/regenerate", json={"sections": ["global"]}, headers=auth)
        assert response.status == 200
        body = await response.json()
        [result] = body["results"]
        assert result["section"] == "global"
        assert result["changed"] is True and result["coalesced"] is False
        assert result["error"] is None
        for key in ("items", "bytes", "milliseconds", "generated_at"):
            assert key in result, key
        assert {f["format"] for f in result["formats"]} == {"rss", "atom", "json"}
        for fmt in result["formats"]:
            assert fmt["bytes"] > 0 and fmt["etag"].startswith('"') and "items" in fmt
        assert result["bytes"] == sum(f["bytes"] for f in result["formats"])

        response = await client.post("/api/regenerate", json={}, headers=auth)
        assert response.status == 200
        sections = [r["section"] for r in (await response.json())["results"]]
        assert sections == EVERY_SECTION
        # An empty body means every section too.
        response = await client.post("/api/regenerate", headers=auth)
        assert [r["section"] for r in (await response.json())["results"]] == EVERY_SECTION


async def test_regenerate_unknown_section_is_404_in_the_error_shape(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path, run_scheduler=False)) as client:
        auth = await editor_header(client)
        response = await client.post(
            "/api/regenerate", json={"sections": ["global", "weather"]}, headers=auth
        )
        assert response.status == 404
        body = await response.json()
        assert list(body) == ["errors"]
        assert "weather" in body["errors"][0]["message"]
        assert set(body["errors"][0]) >= {"path", "message"}


def count_callers(client: Client) -> list[str]:
    """Record each caller reaching the regenerator's per-section sharing (it then joins)."""
    runs = client.app[REGENERATOR]._runs  # the coalescing itself, wrapped to count its callers
    real = runs.result
    callers: list[str] = []

    async def shared(slug: str, needed_seq: int) -> SectionResult:
        callers.append(slug)
        return await real(slug, needed_seq)

    runs.result = shared  # type: ignore[method-assign]
    return callers


def slow_reads(client: Client, gate: asyncio.Event) -> None:
    """Make every regeneration wait at its article read until `gate` is set."""
    store = client.app[STORE]
    real = store.latest_stored

    async def latest_stored(*args: Any, **kwargs: Any) -> Any:
        await gate.wait()
        return await real(*args, **kwargs)

    store.latest_stored = latest_stored  # type: ignore[method-assign]


async def test_concurrent_regenerate_requests_share_one_run(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path, run_scheduler=False)) as client:
        auth = await editor_header(client)
        runs: list[SectionResult] = []
        client.app[REGENERATOR].observers.append(runs.append)
        gate = asyncio.Event()
        slow_reads(client, gate)

        async def post() -> dict[str, Any]:
            response = await client.post(
                "/api/regenerate", json={"sections": ["global"]}, headers=auth
            )
            assert response.status == 200
            [result] = (await response.json())["results"]
            return dict(result)

        callers = count_callers(client)
        requests = [asyncio.ensure_future(post()) for _ in range(5)]

        # Every request is in before the one run may read the store.
        async def all_in() -> bool:
            return len(callers) == 5

        await wait_until(all_in, timeout=5, what="five requests to reach the regenerator")
        gate.set()
        results = await asyncio.gather(*requests)
        assert [r.section for r in runs] == ["global"], "the section ran more than once"
        assert sorted(r["coalesced"] for r in results) == [False, True, True, True, True]
        assert len({r["generated_at"] for r in results}) == 1


async def test_request_during_a_run_gets_its_own_changes(tmp_path: Path) -> None:
    """A run that read the store before a caller's article must not answer for it."""
    async with running_app(build_settings(tmp_path, run_scheduler=False)) as client:
        regenerator = client.app[REGENERATOR]
        runs: list[SectionResult] = []
        regenerator.observers.append(runs.append)
        gate = asyncio.Event()
        slow_reads(client, gate)
        early = asyncio.ensure_future(regenerator.regenerate(["global"]))

        async def started() -> bool:
            return regenerator.running("global")

        await wait_until(started, timeout=5, what="the first run to start")
        # The first run has read the seqs and waits at its article read: it is behind now.
        marker = f"late-{uuid.uuid4().hex[:8]}"
        await client.app[STORE].put(
            validate_record(live_record(marker, sections=["global"]), regenerator.settings),
            now=datetime.now(UTC),
        )
        callers = count_callers(client)
        late = [asyncio.ensure_future(regenerator.regenerate(["global"])) for _ in range(3)]

        async def all_in() -> bool:
            return len(callers) == 3

        await wait_until(all_in, timeout=5, what="three late callers to reach the regenerator")
        gate.set()
        [first] = await early
        lates = [r for [r] in await asyncio.gather(*late)]

        assert len(runs) == 2, "one follow-up run, shared by the three late callers"
        assert first.coalesced is False
        assert sorted(r.coalesced for r in lates) == [False, True, True]
        assert all(r.seq > first.seq for r in lates)
        text = await feed_text(client, "global", "rss.xml")
        assert text is not None and marker in text


async def test_status_shows_sections_timer_and_pending_releases(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path)) as client:
        await generated(client)
        auth = await editor_header(client)
        release_at = datetime.now(UTC) + timedelta(hours=1)
        marker = f"pending-{uuid.uuid4().hex[:8]}"
        await client.post(
            "/api/articles",
            json=live_record(marker, sections=["india"], embargo_until=release_at),
            headers=auth,
        )
        await client.post(
            "/api/articles", json=live_record("public-1", sections=["india"]), headers=auth
        )

        async def release_job_listed() -> bool:
            body = await (await client.get("/api/status", headers=auth)).json()
            return any(j["id"].startswith("release-") for j in body["scheduler"]["jobs"])

        await wait_until(release_job_listed, timeout=3, what="the release's date job")
        response = await client.get("/api/status", headers=auth)
        assert response.status == 200
        body = await response.json()
        by_section = {s["section"]: s for s in body["sections"]}
        assert list(by_section) == EVERY_SECTION
        india = by_section["india"]
        assert india["items"] == 1  # the held article is not counted as public
        assert india["last_generation"] and india["milliseconds"] is not None
        assert set(india["etags"]) == set(FEED_NAMES)
        assert india["last_error"] is None
        timer = body["scheduler"]
        assert timer["running"] is True and timer["leader"] is True
        assert timer["interval_seconds"] == 3600
        ids = {j["id"] for j in timer["jobs"]}
        assert {"regenerate-changed", "regenerate-all", "sync-releases"} <= ids
        # Every job is due again, except the publish run of the two saves above, which may be
        # firing just now (a date job has no next run while it runs).
        assert all(j["next_run"] for j in timer["jobs"] if j["id"] != "publish-changes")
        release_job = next(j for j in timer["jobs"] if j["id"].startswith("release-"))
        assert datetime.fromisoformat(release_job["next_run"]) >= release_at
        assert timer["next_run"] is not None
        [pending] = body["pending_releases"]
        assert pending["id"] == marker and pending["sections"] == ["india"]
        assert datetime.fromisoformat(pending["release_at"]) == release_at.replace(
            microsecond=release_at.microsecond // 1000 * 1000
        )
        assert body["websub"] is None
