"""Quarantine, not contagion: a record the timer cannot schedule or a renderer cannot take is
left out of what it breaks and named in status; every other article and embargo goes on."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from syndicate.core.model import Article
from syndicate.render import FORMATS
from syndicate.store.sqlite import SQLiteStore
from syndicate.validate import validate_record
from tests.helpers.clients import feed_text, running_app
from tests.helpers.records import live_record
from tests.helpers.settings import build_settings
from tests.helpers.tokens import editor_header
from tests.helpers.waiting import wait_until


async def test_an_unschedulable_release_never_stops_the_others(tmp_path: Path) -> None:
    settings = build_settings(tmp_path)
    store = SQLiteStore(settings.database_url)
    await store.open()
    now = datetime.now(UTC)
    soon = now + timedelta(seconds=2)
    for article_id, until in (("bad", now + timedelta(hours=1)), ("good", soon)):
        raw = live_record(article_id, sections=["global"], embargo_until=until)
        await store.put(validate_record(raw, settings), now=now)
    await store.close()
    # What validation now refuses, planted as an older version could have stored it: a
    # release in year 31,000 (no datetime holds it, no scheduler can run it).
    with sqlite3.connect(tmp_path / "store.db") as db:
        db.execute("UPDATE articles SET release_ts = 1e15 WHERE id = 'bad'")

    async with running_app(settings) as client:

        async def released() -> bool:
            return "headline good" in (await feed_text(client, "global", "rss.xml") or "")

        await wait_until(released, timeout=10, what="the good embargo's release")
        assert datetime.now(UTC) >= soon
        headers = await editor_header(client)
        answer = await client.get("/api/status", headers=headers)
        assert answer.status == 200
        status = await answer.json()
        named = {q["id"]: q for q in status["scheduler"]["quarantined"]}
        assert named["bad"]["stage"] == "schedule" and "Error" in named["bad"]["error"]
        assert "headline bad" not in (await feed_text(client, "global", "rss.xml") or "")
        # Storing another embargoed story still works and it is scheduled.
        later = live_record(
            "later", sections=["global"], embargo_until=datetime.now(UTC) + timedelta(seconds=1)
        )
        assert (await client.post("/api/articles", json=later, headers=headers)).status == 201

        async def later_released() -> bool:
            return "headline later" in (await feed_text(client, "global", "rss.xml") or "")

        await wait_until(later_released, timeout=10, what="a later embargo's release")


@pytest.mark.parametrize("name", list(FORMATS))
async def test_an_article_a_renderer_fails_on_is_left_out_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    real = FORMATS[name].item

    def fragile(article: Article, language: str) -> bytes:
        if article.id == "poison":
            raise OverflowError("date value out of range")
        return real(article, language)

    # Patched here, so rendered here: worker processes would not see the patch.
    monkeypatch.setitem(FORMATS, name, replace(FORMATS[name], item=fragile))
    async with running_app(
        build_settings(tmp_path, run_scheduler=False, render_workers=0)
    ) as client:
        headers = await editor_header(client)
        for article_id in ("first", "poison", "last"):
            body: dict[str, Any] = live_record(article_id, sections=["global"])
            assert (await client.post("/api/articles", json=body, headers=headers)).status == 201
        answer = await client.post(
            "/api/regenerate", json={"sections": ["global"]}, headers=headers
        )
        [result] = (await answer.json())["results"]
        assert result["error"] is None
        filename = FORMATS[name].filename
        text = await feed_text(client, "global", filename) or ""
        if name == "json":
            titles = [i["title"] for i in json.loads(text)["items"]]
        else:
            titles = [e.title for e in feedparser.parse(text).entries]
        assert sorted(titles) == ["headline first", "headline last"]
        status = await (await client.get("/api/status", headers=headers)).json()
        section = next(s for s in status["sections"] if s["section"] == "global")
        assert any("poison" in w and "cannot be rendered" in w for w in section["warnings"])


def test_syndicate_status_names_what_was_left_out() -> None:
    from syndicate.cli.status import _status_tables

    body: dict[str, Any] = {
        "sections": [
            {
                "section": "global",
                "items": 2,
                "last_generation": None,
                "milliseconds": None,
                "etags": {},
                "last_error": None,
                "warnings": ["rss: poison left out, it cannot be rendered: OverflowError: x"],
            }
        ],
        "scheduler": {
            "running": True,
            "leader": True,
            "interval_seconds": 300,
            "last_error": None,
            "jobs": [],
            "quarantined": [{"id": "bad", "stage": "schedule", "error": "OverflowError: y"}],
        },
        "pending_releases": [],
    }
    rows = {
        tuple(line.split()[:2])
        for line in _status_tables(body, live=True).splitlines()
        if line.strip()
    }
    assert ("bad", "schedule") in rows and ("global", "render") in rows


async def test_a_renderer_that_fails_on_every_article_keeps_the_last_good_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_app(
        build_settings(tmp_path, run_scheduler=False, render_workers=0)
    ) as client:
        headers = await editor_header(client)
        body: dict[str, Any] = live_record("kept", sections=["global"])
        assert (await client.post("/api/articles", json=body, headers=headers)).status == 201
        await client.post("/api/regenerate", json={"sections": ["global"]}, headers=headers)
        before = await feed_text(client, "global", "rss.xml")
        assert before is not None and "headline kept" in before

        def broken(article: Article, language: str) -> bytes:
            raise RuntimeError("renderer bug")

        monkeypatch.setitem(FORMATS, "rss", replace(FORMATS["rss"], item=broken))
        body = live_record("newer", sections=["global"])
        assert (await client.post("/api/articles", json=body, headers=headers)).status == 201
        answer = await client.post(
            "/api/regenerate", json={"sections": ["global"]}, headers=headers
        )
        [result] = (await answer.json())["results"]
        assert "renderer bug" in result["error"]
        # Not emptied by quarantining every article: the last good feed is still served.
        assert await feed_text(client, "global", "rss.xml") == before
