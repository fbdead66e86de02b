"""An item too large for its feed's byte budget never empties the feed (it goes out short)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import feedparser
import pytest

from syndicate.core.model import Article
from syndicate.render import FORMATS, fit_counted
from tests.helpers.clients import running_app
from tests.helpers.feeds import context, hindi_section, numbered_articles
from tests.helpers.records import live_record
from tests.helpers.settings import build_settings
from tests.helpers.tokens import editor_header

URN = "urn:syndicate:article:"
# Valid (under the 1 MiB request limit, within the tag bound), but RSS and Atom escape its
# 9,982 tags: over the 1 MiB feed budget on its own.
BIG_BODY = "<p>" + "<b>rally</b> " * 4990 + "w " * 470_000 + "</p>"


def _big(newer_than: Article) -> Article:
    record = {
        **newer_than.record,
        "id": "huge",
        "headline": "A very long story",
        "summary": "The short of it",
        "body_html": BIG_BODY,
        "published": "2024-04-01T00:00:00+05:30",
    }
    return Article.from_record(record)


def _entries(name: str, data: bytes) -> dict[str, str]:
    """Item id → its full text content as a reader sees it."""
    if name == "json":
        items = json.loads(data)["items"]
        return {i["id"]: i.get("content_html", "") for i in items}
    entries = feedparser.parse(data).entries
    return {e.id: " ".join(c.value for c in e.get("content", [])) or e.summary for e in entries}


@pytest.mark.parametrize("name", list(FORMATS))
def test_an_oversized_newest_item_goes_out_short_and_the_rest_stay(name: str) -> None:
    rest = numbered_articles(8, body_bytes=2000)
    items = [_big(rest[0]), *rest]
    fitted = fit_counted(FORMATS[name].render, context(), hindi_section(), items)
    assert len(fitted.body) <= hindi_section().max_bytes
    entries = _entries(name, fitted.body)
    assert list(entries) == [URN + "huge", *(URN + a.id for a in rest)]
    if "huge" in fitted.shortened:
        assert "The short of it" in entries[URN + "huge"]
        assert "w w w w" not in entries[URN + "huge"]
    else:  # fits whole (JSON Feed carries the body once)
        assert len(entries[URN + "huge"]) > 900_000
    assert fitted.left_out == ()


def test_rss_and_atom_shorten_what_json_carries_whole() -> None:
    rest = numbered_articles(2, body_bytes=2000)
    items = [_big(rest[0]), *rest]
    shortened = {
        name: fit_counted(fmt.render, context(), hindi_section(), items).shortened
        for name, fmt in FORMATS.items()
    }
    assert shortened["rss"] == ("huge",) and shortened["atom"] == ("huge",)


def test_an_item_whose_summary_form_is_still_too_large_is_left_out() -> None:
    rest = numbered_articles(3, body_bytes=200)
    big = Article.from_record({**_big(rest[0]).record, "summary": "s" * 9000})
    section = hindi_section(max_bytes=8192)
    fitted = fit_counted(FORMATS["rss"].render, context(), section, [big, *rest])
    assert fitted.left_out == ("huge",)
    assert list(_entries("rss", fitted.body)) == [URN + a.id for a in rest]


async def test_status_warns_of_a_shortened_item(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path)) as client:
        headers = await editor_header(client)
        for i in range(3):
            body = live_record(f"small-{i}", sections=["global"])
            assert (await client.post("/api/articles", json=body, headers=headers)).status == 201
        huge: dict[str, Any] = {**live_record("huge", sections=["global"]), "body_html": BIG_BODY}
        answer = await client.post("/api/articles", json=huge, headers=headers)
        assert answer.status == 201, await answer.text()
        answer = await client.post(
            "/api/regenerate", json={"sections": ["global"]}, headers=headers
        )
        assert answer.status == 200
        feed = feedparser.parse(await (await client.get("/feeds/global/rss.xml")).read())
        assert {e.id for e in feed.entries} >= {
            URN + "huge",
            *(f"{URN}small-{i}" for i in range(3)),
        }
        status = await (await client.get("/api/status", headers=headers)).json()
        section = next(s for s in status["sections"] if s["section"] == "global")
        assert any("huge" in w and "summary form" in w for w in section["warnings"])
