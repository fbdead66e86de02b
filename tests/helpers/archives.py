"""Following a served feed's links (RFC 5005 archives, JSON Feed's `next_url`): the links of
a document, the article ids it carries, and a walk from the current feed through every
archive page."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from lxml import etree

from tests.helpers.clients import Client, fetch
from tests.helpers.settings import BASE_URL

ATOM = "http://www.w3.org/2005/Atom"
FH = "http://purl.org/syndication/history/1.0"
NS = {"a": ATOM, "atom": ATOM, "fh": FH}


def path_of(url: str) -> str:
    """The path (and query) of an absolute URL on the test base."""
    assert url.startswith(BASE_URL + "/"), url
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
