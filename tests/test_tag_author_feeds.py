"""Tag and author feeds on both stores: Unicode tags percent-encoded, the three formats valid,
nothing held or withdrawn, unknown ones 404, the section feeds' validators and 304s, served
warm from memory, and dropped when a member story changes."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

from syndicate.core.taxonomy import author_slug, path_segment, tag_key
from syndicate.store.base import Store
from syndicate.web.keys import STORE
from syndicate.web.reach import ONDEMAND
from tests.helpers.archives import NS, ids_of, links
from tests.helpers.clients import Client, app_on, fetch, regenerate
from tests.helpers.feed_checks import atom_problems, json_feed_problems, rss_problems
from tests.helpers.records import numbered_record
from tests.helpers.settings import BASE_URL, build_settings

RUSSIA = "रूस"
RAM = "राम शर्मा"
FILES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
MEDIA = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


def tag_path(tag: str, name: str = "atom") -> str:
    return f"/feeds/tag/{path_segment(tag)}/{FILES[name]}"


def author_path(slug: str, name: str = "atom") -> str:
    return f"/feeds/author/{path_segment(slug)}/{FILES[name]}"


def _stories() -> list[dict[str, Any]]:
    ram = [{"name": RAM, "url": "https://news.example/authors/ram"}]
    jane = [{"name": "Jane <Doe>"}]
    return [
        numbered_record(
            1, tags=[RUSSIA, "Sensex"], authors=ram, language="hi", sections=["global"]
        ),
        numbered_record(2, tags=["Sensex"], authors=jane),
        numbered_record(
            3, tags=[RUSSIA], authors=[*ram, *jane], language="hi", sections=["global"]
        ),
        numbered_record(4, tags=["cricket"], authors=jane, sections=["sport"]),
        # Never public: embargoed, withdrawn (below), future-dated; one tag only they have.
        numbered_record(
            5, tags=[RUSSIA, "secret"], authors=ram, embargo_until="2099-01-01T00:00:00Z"
        ),
        numbered_record(6, tags=[RUSSIA, "killed"], authors=ram),
        numbered_record(7, tags=[RUSSIA, "secret"], authors=ram, published="2099-01-01T00:00:00Z"),
    ]


@pytest.fixture
async def client(store: Store, tmp_path: Path) -> AsyncIterator[Client]:
    now = datetime.now(UTC)
    async with app_on(store, build_settings(tmp_path, render_workers=0)) as made:
        await store.put_many(_stories(), now=now)
        await store.withdraw("s-0006", now=now)
        await regenerate(made)
        yield made


def test_tag_keys_and_author_slugs() -> None:
    assert tag_key("  Sensex ") == tag_key("SENSEX") == "sensex"
    assert tag_key(RUSSIA) == RUSSIA and tag_key("शेयर   बाज़ार") == "शेयर बाज़ार"
    assert author_slug(RAM) == "राम-शर्मा"  # vowel signs are marks: kept
    assert author_slug("Jane <Doe>") == "jane-doe" and author_slug("O'Brien") == "o-brien"
    assert author_slug("<<>>") == ""
    assert path_segment(RUSSIA) == "%E0%A4%B0%E0%A5%82%E0%A4%B8"
    assert path_segment("a/b c") == "a%2Fb%20c"


@pytest.mark.parametrize("name", list(FILES))
async def test_a_unicode_tag_feed_in_every_format(client: Client, name: str) -> None:
    path = tag_path(RUSSIA, name)
    assert path == f"/feeds/tag/%E0%A4%B0%E0%A5%82%E0%A4%B8/{FILES[name]}"
    status, headers, body = await fetch(client, path)
    assert status == 200 and headers["Content-Type"] == MEDIA[name]
    assert ids_of(name, body) == ["s-0003", "s-0001"]  # newest first, nothing held or killed
    self_url = f"{BASE_URL}{path}"
    if name == "json":
        feed = json.loads(body)
        assert json_feed_problems(feed) == []
        assert feed["feed_url"] == self_url and feed["title"] == RUSSIA
        assert feed["language"] == "hi" and "hubs" not in feed
        return
    assert (rss_problems(body) if name == "rss" else atom_problems(body)) == []
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.feed.title == RUSSIA and parsed.feed.language == "hi"
    root = etree.fromstring(body)
    assert links(root, "self") == [self_url] and links(root, "hub") == []


async def test_author_feeds_by_slug(client: Client) -> None:
    status, _, body = await fetch(client, author_path("राम-शर्मा"))
    assert status == 200 and ids_of("atom", body) == ["s-0003", "s-0001"]
    assert etree.fromstring(body).findtext("a:title", None, NS) == RAM
    status, _, body = await fetch(client, author_path("jane-doe", "rss"))
    assert status == 200 and ids_of("rss", body) == ["s-0004", "s-0003", "s-0002"]
    assert rss_problems(body) == []
    # The slug is normalised like the index: another spelling of it is the same feed.
    status, _, again = await fetch(client, author_path("Jane-Doe", "rss"))
    assert (status, again) == (200, body)


async def test_tags_match_whatever_their_case(client: Client) -> None:
    _, _, lower = await fetch(client, tag_path("sensex"))
    status, _, upper = await fetch(client, tag_path("SENSEX"))
    assert status == 200 and upper == lower and ids_of("atom", lower) == ["s-0002", "s-0001"]


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/tag/nowhere/atom.xml",
        "/feeds/tag/secret/rss.xml",  # only held stories have it: no sign that it exists
        "/feeds/tag/killed/feed.json",  # only a withdrawn one
        "/feeds/author/nobody/atom.xml",
        "/feeds/author/%3C%3E/atom.xml",  # no slug at all
        "/feeds/tag/sensex/index.html",
    ],
)
async def test_unknown_tags_and_authors_are_404(client: Client, path: str) -> None:
    status, _headers, body = await fetch(client, path)
    assert status == 404
    if "index.html" not in path:
        assert json.loads(body)["errors"][0]["message"]


async def test_validators_304_and_gzip_like_a_section_feed(client: Client) -> None:
    path = tag_path(RUSSIA, "rss")
    status, headers, body = await fetch(client, path)
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=60"
    assert headers["Vary"] == "Accept-Encoding" and headers["ETag"].startswith('"')
    status, again, empty = await fetch(client, path, **{"If-None-Match": headers["ETag"]})
    assert (status, empty, again["ETag"]) == (304, b"", headers["ETag"])
    since = headers["Last-Modified"]
    status, _, _ = await fetch(client, path, **{"If-Modified-Since": since})
    assert status == 304
    status, zipped, compressed = await fetch(client, path, **{"Accept-Encoding": "gzip"})
    assert status == 200 and zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed) == body
    head = await client.head(path, headers={"Accept-Encoding": "identity"})
    assert head.status == 200 and head.headers["ETag"] == headers["ETag"]


async def test_a_warm_feed_is_served_from_memory(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tag_path("cricket", "json")
    status, headers, body = await fetch(client, path)
    assert status == 200
    calls: list[str] = []
    store = client.app[STORE]

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append("by_tag")
        raise AssertionError("a warm request reached the store")

    monkeypatch.setattr(store, "by_tag", counted)
    hits = client.app[ONDEMAND].hits
    for _ in range(5):
        status, again, same = await fetch(client, path)
        assert (status, again["ETag"], same) == (200, headers["ETag"], body)
    assert calls == [] and client.app[ONDEMAND].hits == hits + 5


async def test_a_change_to_a_member_story_reaches_the_feed(client: Client) -> None:
    store = client.app[STORE]
    now = datetime.now(UTC)
    path = tag_path(RUSSIA)
    _, first, body = await fetch(client, path)
    # A new story with the tag, a story losing it, a correction, a withdrawal.
    await store.put(numbered_record(8, tags=[RUSSIA], language="hi", sections=["global"]), now=now)
    await client.app[ONDEMAND].catch_up()
    _, _, body = await fetch(client, path)
    assert ids_of("atom", body) == ["s-0008", "s-0003", "s-0001"]
    await store.put(numbered_record(3, tags=["other"], language="hi", sections=["global"]), now=now)
    await store.put(
        numbered_record(
            1, tags=[RUSSIA, "Sensex"], headline="Story 1, corrected", sections=["global"]
        ),
        now=now,
    )
    await client.app[ONDEMAND].catch_up()
    _, headers, body = await fetch(client, path)
    assert ids_of("atom", body) == ["s-0008", "s-0001"] and headers["ETag"] != first["ETag"]
    assert "Story 1, corrected" in body.decode()
    await store.withdraw("s-0008", now=now)
    await store.withdraw("s-0001", now=now)
    await client.app[ONDEMAND].catch_up()
    status, _, _ = await fetch(client, path)
    assert status == 404  # no public story has the tag any more


async def test_the_watcher_drops_a_withdrawn_story_on_its_own(client: Client) -> None:
    # No explicit catch_up: the app's own watcher reads the change log.
    path = tag_path("sensex", "json")
    _, _, body = await fetch(client, path)
    assert ids_of("json", body) == ["s-0002", "s-0001"]
    await client.app[STORE].withdraw("s-0002", now=datetime.now(UTC))
    deadline = time.monotonic() + 10
    while True:
        _, _, body = await fetch(client, path)
        if ids_of("json", body) == ["s-0001"]:
            break
        assert time.monotonic() < deadline, "the withdrawn story stayed in the tag feed"
        await _pause()


async def _pause() -> None:
    await asyncio.sleep(0.05)


async def test_an_embargoed_story_joins_its_tag_feed_only_when_released(
    store: Store, tmp_path: Path
) -> None:
    settings = build_settings(tmp_path, render_workers=0)
    release = datetime.now(UTC) + timedelta(seconds=2)
    async with app_on(store, settings) as client:
        await store.put(numbered_record(1, tags=["budget"]), now=datetime.now(UTC))
        await store.put(
            numbered_record(2, tags=["budget"], embargo_until=release.isoformat()),
            now=datetime.now(UTC),
        )
        await regenerate(client)
        _, _, body = await fetch(client, tag_path("budget"))
        assert ids_of("atom", body) == ["s-0001"]
        # At its time the timer writes the release down; the feed follows that change.
        while datetime.now(UTC) < release:
            await _pause()
        await store.release_due(now=datetime.now(UTC))
        await client.app[ONDEMAND].catch_up()
        _, _, body = await fetch(client, tag_path("budget"))
        assert ids_of("atom", body) == ["s-0002", "s-0001"]


async def test_rendered_by_a_worker_process(tmp_path: Path, store: Store) -> None:
    async with app_on(store, build_settings(tmp_path, render_workers=1)) as client:
        await store.put_many(_stories(), now=datetime.now(UTC))
        status, _headers, body = await fetch(client, tag_path(RUSSIA, "rss"))
        assert status == 200 and rss_problems(body) == []
        assert ids_of("rss", body)[:2] == ["s-0006", "s-0003"]  # s-0006 not withdrawn here
