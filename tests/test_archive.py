"""RFC 5005 archives: the links the renderers write, and, on both stores, a walk of a 300-story
section from its current feed through every archive page (every story once, newest to oldest,
nothing held or withdrawn), pages that never change once full, kills that leave them."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from syndicate.pipeline.archive import PAGE_SIZE, as_feed_section
from syndicate.render import FORMATS
from syndicate.render.documents import ArchiveLinks
from syndicate.store.base import Store
from syndicate.web.keys import STORE
from tests.helpers.archives import NS, ids_of, links, path_of, walk
from tests.helpers.clients import Client, app_on, fetch, regenerate
from tests.helpers.feed_checks import atom_problems, json_feed_problems, rss_problems
from tests.helpers.feeds import articles, context, hindi_section
from tests.helpers.records import START, numbered_record
from tests.helpers.settings import BASE_URL, build_settings

FILES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
HIDDEN = ("w-0001", "e-0001", "f-0001")


# -- what the renderers write ---------------------------------------------------------------
def _render(name: str, links_: ArchiveLinks) -> bytes:
    section = as_feed_section(hindi_section(), archive=links_)
    return FORMATS[name].render(context(), section, articles())


def test_a_current_feed_links_its_newest_archive_page() -> None:
    for name, media in (("rss", "application/rss+xml"), ("atom", "application/atom+xml")):
        root = etree.fromstring(_render(name, ArchiveLinks(prev=3)))
        assert links(root, "prev-archive") == [f"{BASE_URL}/feeds/global/archive/3/{FILES[name]}"]
        assert links(root, "current") == [] and links(root, "next-archive") == []
        assert root.find(".//fh:archive", NS) is None
        parent = root.find("channel") if name == "rss" else root
        assert parent is not None
        prev = parent.find("a:link[@rel='prev-archive']", NS)
        assert prev is not None and prev.get("type") == media
        # Still subscribable: the hub is advertised, the self link is the feed.
        assert links(root, "self") == [f"{BASE_URL}/feeds/global/{FILES[name]}"]
        assert links(root, "hub")
    feed = json.loads(_render("json", ArchiveLinks(prev=3)))
    assert feed["next_url"] == f"{BASE_URL}/feeds/global/archive/3/feed.json"
    assert feed["feed_url"] == f"{BASE_URL}/feeds/global/feed.json" and feed["hubs"]


def test_an_archive_page_is_marked_and_linked_both_ways() -> None:
    for name in ("rss", "atom"):
        data = _render(name, ArchiveLinks(page=2, prev=1, next=3))
        root = etree.fromstring(data)
        assert root.find(".//fh:archive", NS) is not None
        assert links(root, "self") == [f"{BASE_URL}/feeds/global/archive/2/{FILES[name]}"]
        assert links(root, "current") == [f"{BASE_URL}/feeds/global/{FILES[name]}"]
        assert links(root, "prev-archive") == [f"{BASE_URL}/feeds/global/archive/1/{FILES[name]}"]
        assert links(root, "next-archive") == [f"{BASE_URL}/feeds/global/archive/3/{FILES[name]}"]
        assert links(root, "hub") == []  # nobody subscribes to an archive page
        problems = rss_problems(data) if name == "rss" else atom_problems(data)
        assert problems == []
        assert not feedparser.parse(data).bozo
    # The oldest page has no prev-archive; an open (newest) page no next-archive.
    oldest = etree.fromstring(_render("atom", ArchiveLinks(page=1, next=2)))
    assert links(oldest, "prev-archive") == [] and links(oldest, "next-archive")
    # An archive page keeps the feed's identity (it is part of the same logical feed).
    assert oldest.findtext("a:id", None, NS) == f"{BASE_URL}/feeds/global/atom.xml"
    page = json.loads(_render("json", ArchiveLinks(page=2, prev=1, next=3)))
    assert page["next_url"] == f"{BASE_URL}/feeds/global/archive/1/feed.json"
    assert "hubs" not in page and json_feed_problems(page) == []


# -- a 300-story section on each store ------------------------------------------------------
def _hidden_records() -> list[dict[str, object]]:
    return [
        numbered_record(101, id="w-0001", published=(START + timedelta(minutes=100.5)).isoformat()),
        numbered_record(
            51,
            id="e-0001",
            published=(START + timedelta(minutes=50.5)).isoformat(),
            embargo_until="2099-01-01T00:00:00+00:00",
        ),
        numbered_record(1, id="f-0001", published="2099-06-01T00:00:00+05:30"),
    ]


@pytest.fixture
async def archived(store: Store, tmp_path: Path) -> AsyncIterator[Client]:
    """Stories 1-250 arrive as one bulk import in no order; 251-300 one by one, with
    regenerations between; a story is withdrawn after it was archived; one is embargoed and
    one future-dated."""
    settings = build_settings(tmp_path, render_workers=0)
    now = datetime.now(UTC)
    bulk = [numbered_record(n) for n in range(1, 251)] + _hidden_records()
    random.Random(12).shuffle(bulk)
    async with app_on(store, settings) as client:
        await store.put_many(bulk, now=now)
        await regenerate(client)
        await store.withdraw("w-0001", now=now)
        for n in range(251, 301):
            await store.put(numbered_record(n), now=now)
            if n % 10 == 0:
                await regenerate(client, "india")
        await regenerate(client)
        yield client


@pytest.mark.parametrize("name", list(FILES))
async def test_walking_the_archive_gives_every_story_once_newest_first(
    archived: Client, name: str
) -> None:
    documents = await walk(archived, f"/feeds/india/{FILES[name]}", name)
    (current_path, current), pages = documents[0], documents[1:]
    every = [f"s-{n:04d}" for n in range(300, 0, -1)]
    on_pages = [i for _, body in pages for i in ids_of(name, body)]
    # The pages partition the section: every story exactly once, newest to oldest.
    assert on_pages == every
    # The current feed repeats the newest (a reader merges by id, RFC 5005 section 4.2).
    assert ids_of(name, current) == every[:50]
    assert len(pages) == -(-(300 + 1) // PAGE_SIZE)  # the withdrawn story kept its position
    for path, body in documents:
        assert not set(HIDDEN) & set(ids_of(name, body)), path
        if name == "json":
            feed = json.loads(body)
            assert json_feed_problems(feed) == [], path
            assert feed["feed_url"] == f"{BASE_URL}{current_path}"
            continue
        assert (rss_problems(body) if name == "rss" else atom_problems(body)) == [], path
        root = etree.fromstring(body)
        assert links(root, "self") == [f"{BASE_URL}{path}"]
        if path == current_path:
            assert root.find(".//fh:archive", NS) is None
        else:
            assert root.find(".//fh:archive", NS) is not None
            assert [path_of(u) for u in links(root, "current")] == [current_path]


async def test_full_pages_never_change_and_are_cached_long(archived: Client) -> None:
    before = {}
    for page in range(1, 7):
        status, headers, body = await fetch(archived, f"/feeds/india/archive/{page}/atom.xml")
        assert status == 200
        before[page] = (headers["ETag"], body)
        expected = "public, max-age=86400" if page < 7 else "public, max-age=60"
        assert headers["Cache-Control"] == expected
    status, headers, _ = await fetch(archived, "/feeds/india/archive/7/atom.xml")
    assert (status, headers["Cache-Control"]) == (200, "public, max-age=60")  # still filling
    # More stories, and a correction of a story on the first (full) page.
    now = datetime.now(UTC)
    st = archived.app[STORE]
    await st.put(numbered_record(10, headline="Story 10, corrected"), now=now)
    await st.put_many([numbered_record(n) for n in range(301, 361)], now=now)
    await regenerate(archived)
    for page, (etag, body) in before.items():
        status, headers, again = await fetch(archived, f"/feeds/india/archive/{page}/atom.xml")
        assert (status, headers["ETag"], again) == (200, etag, body), page
        status, _, _ = await fetch(
            archived, f"/feeds/india/archive/{page}/atom.xml", **{"If-None-Match": etag}
        )
        assert status == 304
    titles = etree.fromstring(before[1][1]).xpath("//a:entry/a:title/text()", namespaces=NS)
    assert "Story 10" in titles and "Story 10, corrected" not in titles
    # A withdrawal is the exception: the story leaves its page (and no other page moves).
    await st.withdraw("s-0020", now=now)
    await regenerate(archived)
    for page, (etag, _) in before.items():
        status, headers, body = await fetch(archived, f"/feeds/india/archive/{page}/atom.xml")
        assert status == 200
        assert (headers["ETag"] == etag) == (page != 1), page
        assert "s-0020" not in ids_of("atom", body)


async def test_pages_past_the_last_and_unknown_sections_are_404(archived: Client) -> None:
    for path in (
        "/feeds/india/archive/9/atom.xml",
        "/feeds/india/archive/0/atom.xml",
        "/feeds/nowhere/archive/1/atom.xml",
        "/feeds/india/archive/1/index.html",
    ):
        status, _, body = await fetch(archived, path)
        assert status == 404, path
        if path.endswith(".xml"):
            assert json.loads(body)["errors"][0]["message"]


async def test_the_all_feed_is_archived_too(archived: Client) -> None:
    documents = await walk(archived, "/feeds/all/feed.json", "json")
    on_pages = [i for _, body in documents[1:] for i in ids_of("json", body)]
    assert on_pages == [f"s-{n:04d}" for n in range(300, 0, -1)]
