"""Helpers for the readers'-reach tests (archives, tag and author feeds, sitemaps): an app on a
given store, stories with tags and authors, and walkers that follow RFC 5005 links.

Plain functions (not fixtures) so test modules import what they use.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient, TestServer
from lxml import etree
from multidict import CIMultiDictProxy

from syndicate.config import Settings
from syndicate.store.base import Store
from syndicate.web.app import create_app
from syndicate.web.keys import REGENERATOR
from syndicate.web.reach import ONDEMAND

Client = TestClient[Any, Any]
BASE = "https://news.example"
ATOM = "http://www.w3.org/2005/Atom"
FH = "http://purl.org/syndication/history/1.0"
NS = {"a": ATOM, "atom": ATOM, "fh": FH}
# A fixed past: every story is well released, whatever the clock says.
START = datetime(2024, 1, 1, tzinfo=UTC)


@asynccontextmanager
async def reach_app(settings: Settings, store: Store) -> AsyncIterator[Client]:
    """The app on `store` (the caller's: both backends), timer off, rendering in-process."""
    app = create_app(settings, store=store, run_scheduler=False)
    async with TestClient(TestServer(app)) as client:
        yield client


def story(number: int, *, section: str = "india", **changes: Any) -> dict[str, Any]:
    """A valid record `s-{number:04d}`, published `number` minutes after START."""
    article_id = f"s-{number:04d}"
    out: dict[str, Any] = {
        "id": article_id,
        "headline": f"Story {number}",
        "body_html": f"<p>Body of story {number}.</p>",
        "language": "en",
        "sections": [section],
        "published": (START + timedelta(minutes=number)).isoformat(),
        "canonical_url": f"{BASE}/{section}/{article_id}",
    }
    out.update(changes)
    return out


async def regenerate(client: Client, *sections: str) -> None:
    """Regenerate (every section by default) and bring the on-demand caches up to date."""
    results = await client.app[REGENERATOR].regenerate(list(sections) or None)
    assert [r.error for r in results] == [None] * len(results)
    await client.app[ONDEMAND].catch_up()


async def fetch(
    client: Client, path: str, **headers: str
) -> tuple[int, CIMultiDictProxy[str], bytes]:
    """GET without compression unless asked; (status, headers, body)."""
    sent = {"Accept-Encoding": "identity", **headers}
    response = await client.get(path, headers=sent, auto_decompress=False)
    return response.status, response.headers, await response.read()


def path_of(url: str) -> str:
    """The path (and query) of an absolute URL on the test base."""
    assert url.startswith(BASE + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def links(root: etree._Element, rel: str) -> list[str]:
    """hrefs of the Atom links (`atom:link` in RSS) with this rel, at feed/channel level."""
    parent = root.find("channel") if root.tag == "rss" else root
    assert parent is not None
    return [e.get("href", "") for e in parent.findall("a:link", NS) if e.get("rel") == rel]


def ids_of(name: str, body: bytes) -> list[str]:
    """The article ids of a document's items, in document order."""
    if name == "json":
        return [item["id"].rsplit(":", 1)[1] for item in json.loads(body)["items"]]
    root = etree.fromstring(body)
    if name == "rss":
        return [(g.text or "").rsplit(":", 1)[1] for g in root.iterfind("channel/item/guid")]
    return [(e.text or "").rsplit(":", 1)[1] for e in root.iterfind("a:entry/a:id", NS)]


def next_page(name: str, body: bytes) -> str | None:
    """Where an archive walk goes from this document: prev-archive, or JSON Feed's next_url."""
    if name == "json":
        url = json.loads(body).get("next_url")
        return str(url) if url else None
    found = links(etree.fromstring(body), "prev-archive")
    assert len(found) <= 1
    return found[0] if found else None


async def walk(client: Client, current: str, name: str) -> list[tuple[str, bytes]]:
    """(path, body) of the current feed then every archive page, following the links."""
    seen: list[tuple[str, bytes]] = []
    path: str | None = current
    while path is not None:
        assert path not in [p for p, _ in seen], f"the archive links loop back to {path}"
        status, _, body = await fetch(client, path)
        assert status == 200, (path, status, body[:200])
        seen.append((path, body))
        url = next_page(name, body)
        path = path_of(url) if url else None
    return seen


def json_feed_problems(feed: dict[str, Any]) -> list[str]:
    """What JSON Feed 1.1 requires and a document lacks (https://jsonfeed.org/version/1.1)."""
    problems = []
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append("version is not https://jsonfeed.org/version/1.1")
    if not isinstance(feed.get("title"), str) or not feed["title"]:
        problems.append("title missing")
    for key in ("home_page_url", "feed_url", "next_url"):
        if key in feed and not str(feed[key]).startswith(("https://", "http://")):
            problems.append(f"{key} is not an absolute URL")
    items = feed.get("items")
    if not isinstance(items, list):
        return [*problems, "items is not a list"]
    ids = [item.get("id") for item in items]
    if len(set(ids)) != len(ids):
        problems.append("item ids repeat")
    for item in items:
        if not isinstance(item.get("id"), str):
            problems.append("item without a string id")
        if "content_html" not in item and "content_text" not in item:
            problems.append(f"{item.get('id')}: no content_html or content_text")
        for key in ("date_published", "date_modified"):
            if key in item and datetime.fromisoformat(item[key]).tzinfo is None:
                problems.append(f"{item.get('id')}: {key} without an offset")
    return problems
