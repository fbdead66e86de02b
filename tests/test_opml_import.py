"""An OPML import, read by a reader's own OPML library (listparser), subscribes each section
once, each to a feed of the type its outline says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import feedparser
import listparser
import pytest
from lxml import etree

from tests.helpers.clients import Client
from tests.helpers.readers import reader_site
from tests.helpers.settings import BASE_URL, READER_SECTIONS
from tests.helpers.stores import sqlite_store

FEEDPARSER_VERSIONS = {"rss": "rss20", "atom": "atom10"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async with sqlite_store(tmp_path / "store.db") as store, reader_site(store, tmp_path) as made:
        yield made


async def test_an_opml_import_subscribes_each_section_once(client: Client, tmp_path: Path) -> None:
    resp = await client.get("/feeds/opml.xml")
    assert resp.status == 200
    data = await resp.read()
    # The published copy (what a static server hands out) is the same document.
    assert (tmp_path / "feeds" / "opml.xml").read_bytes() == data
    parsed = listparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    urls = [feed.url for feed in parsed.feeds]
    assert len(urls) == len(set(urls)) == len(READER_SECTIONS)
    by_section = {url.removeprefix(f"{BASE_URL}/feeds/").split("/")[0] for url in urls}
    assert by_section == set(READER_SECTIONS)  # `all` would repeat every story
    assert all(feed.title for feed in parsed.feeds)
    # Each outline's type is the type of the feed it names, as a reader finds it.
    outlines = etree.fromstring(data).xpath("//outline[@xmlUrl]")
    for outline in outlines:
        path = outline.get("xmlUrl").removeprefix(BASE_URL)
        got = await client.get(path, headers={"Accept": "application/rss+xml, */*;q=0.1"})
        assert got.status == 200
        feed = feedparser.parse(await got.read())
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        assert feed.version == FEEDPARSER_VERSIONS[outline.get("type")], path
        assert outline.get("version") == "RSS2"
        assert outline.get("htmlUrl") == f"{BASE_URL}/sections/{path.split('/')[2]}"
