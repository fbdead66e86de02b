"""A person opening a feed URL in a browser is sent to the section's page; every feed reader
and validator gets the exact feed bytes with the format's media type, whatever it accepts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from syndicate.render import FORMATS
from syndicate.web.feeds import prefers_page
from syndicate.web.keys import CACHE
from tests.helpers.clients import Client
from tests.helpers.readers import BROWSERS, reader_site
from tests.helpers.stores import sqlite_store

# What feed readers, validators and tools send (None: no Accept header at all).
READERS: dict[str, str | None] = {
    "none": None,
    "any": "*/*",
    "curl": "*/*",
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json feed": "application/feed+json",
    "xml": "application/xml",
    "text xml": "text/xml",
    "feedparser": "application/atom+xml,application/rdf+xml,application/rss+xml,"
    "application/x-netcdf,application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1",
    "tiny tiny rss": "application/rss+xml, application/rdf+xml;q=0.9, "
    "application/atom+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.7, "
    "unknown/unknown;q=0.1",
    # A tie is the reader's: only a strict preference for HTML means a person.
    "html and anything": "text/html, */*",
    "html and xml alike": "text/html, application/xml",
    "html unwanted": "text/html;q=0, */*",
    "malformed q": "text/html;q=high, application/rss+xml",
}


@pytest.mark.parametrize("accept", list(BROWSERS.values()), ids=list(BROWSERS))
def test_browsers_navigations_prefer_a_page(accept: str) -> None:
    assert prefers_page(accept)


@pytest.mark.parametrize(
    "accept", [a for a in READERS.values() if a], ids=[k for k, a in READERS.items() if a]
)
def test_readers_accepts_do_not(accept: str) -> None:
    assert not prefers_page(accept)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async with sqlite_store(tmp_path / "store.db") as store, reader_site(store, tmp_path) as made:
        yield made


async def _get(client: Client, path: str, headers: dict[str, str], method: str = "GET") -> Any:
    resp = await client.request(
        method,
        path,
        headers={"Accept-Encoding": "identity", **headers},
        allow_redirects=False,
        auto_decompress=False,
    )
    await resp.read()
    return resp


def _vary(resp: Any) -> set[str]:
    return {v.strip().lower() for v in resp.headers.get("Vary", "").split(",")}


@pytest.mark.parametrize("browser", list(BROWSERS))
@pytest.mark.parametrize("name", [fmt.filename for fmt in FORMATS.values()])
async def test_a_browser_opening_a_feed_is_sent_to_its_page(
    client: Client, browser: str, name: str
) -> None:
    for method in ("GET", "HEAD"):
        resp = await _get(client, f"/feeds/global/{name}", {"Accept": BROWSERS[browser]}, method)
        assert resp.status == 303
        assert resp.headers["Location"] == "/sections/global"
        assert {"accept", "accept-encoding"} <= _vary(resp)
        assert "max-age=45" in resp.headers["Cache-Control"]
    page = await _get(client, "/sections/global", {"Accept": BROWSERS[browser]})
    assert page.status == 200
    doc = lxml.html.fromstring(await page.read())
    assert doc.xpath('//li[contains(@class, "story")]//h3/a')


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=list(FORMATS))
async def test_every_reader_gets_the_exact_feed_bytes(
    client: Client, reader: str, fmt: Any
) -> None:
    accept = READERS[reader]
    headers = {"Accept": accept} if accept is not None else {}
    served = client.app[CACHE].get("global", fmt.filename)
    assert served is not None
    resp = await _get(client, f"/feeds/global/{fmt.filename}", headers)
    assert resp.status == 200
    assert await resp.read() == served.body
    assert resp.headers["Content-Type"] == fmt.media_type
    assert {"accept", "accept-encoding"} <= _vary(resp)
    # Conditional requests still answer 304, with the same Vary.
    again = await _get(
        client, f"/feeds/global/{fmt.filename}", {**headers, "If-None-Match": served.etag}
    )
    assert again.status == 304 and again.headers["ETag"] == served.etag
    assert {"accept", "accept-encoding"} <= _vary(again)
    since = await _get(
        client,
        f"/feeds/global/{fmt.filename}",
        {**headers, "If-Modified-Since": resp.headers["Last-Modified"]},
    )
    assert since.status == 304


async def test_unknown_feeds_are_still_404_for_browsers(client: Client) -> None:
    for path in ("/feeds/astrology/rss.xml", "/feeds/global/podcast.xml"):
        resp = await _get(client, path, {"Accept": BROWSERS["chromium"]})
        assert resp.status == 404, path
