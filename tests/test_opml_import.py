"""An OPML import, read by a reader's own OPML library (listparser), subscribes each section
once, each to a feed of the type its outline says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import feedparser
import listparser
import pytest
from aiohttp.test_utils import TestClient, TestServer
from lxml import etree

from syndicate.store.sqlite import SQLiteStore
from syndicate.web.app import create_app
from syndicate.web.keys import REGENERATOR
from tests.reader_fixtures import READER_SECTIONS, fill
from tests.test_reader_pages import BASE, reader_settings

Client = TestClient[Any, Any]
FEEDPARSER_VERSIONS = {"rss": "rss20", "atom": "atom10"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    store = SQLiteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await store.open()
    await fill(store, BASE)
    app = create_app(reader_settings(tmp_path), store=store, run_scheduler=False)
    async with TestClient(TestServer(app)) as made:
        await app[REGENERATOR].regenerate()
        yield made
    await store.close()


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
    by_section = {url.removeprefix(f"{BASE}/feeds/").split("/")[0] for url in urls}
    assert by_section == set(READER_SECTIONS)  # `all` would repeat every story
    assert all(feed.title for feed in parsed.feeds)
    # Each outline's type is the type of the feed it names, as a reader finds it.
    outlines = etree.fromstring(data).xpath("//outline[@xmlUrl]")
    for outline in outlines:
        path = outline.get("xmlUrl").removeprefix(BASE)
        got = await client.get(path, headers={"Accept": "application/rss+xml, */*;q=0.1"})
        assert got.status == 200
        feed = feedparser.parse(await got.read())
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        assert feed.version == FEEDPARSER_VERSIONS[outline.get("type")], path
        assert outline.get("version") == "RSS2"
        assert outline.get("htmlUrl") == f"{BASE}/sections/{path.split('/')[2]}"
