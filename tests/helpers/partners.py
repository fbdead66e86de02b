"""Partner pulls for tests: paths, one pull and a pull to the end, each NewsML-G2 or ninjs
document parsed into the items it carries (XML by XPath with namespaces, JSON by json.loads)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lxml import etree

from tests.helpers.clients import Client
from tests.helpers.iptc import parse_xml

NS = {"g": "http://iptc.org/std/nar/2006-10-01/", "h": "http://www.w3.org/1999/xhtml"}
PROVIDER = "syndicate.example"
NEXT_CURSOR_REL = "https://news.example/partners/concepts/next-cursor"
NEWSML_MESSAGE = "application/vnd.iptc.g2.newsmessage+xml"
NEWSML_ITEM = "application/vnd.iptc.g2.newsitem+xml"
JSON = "application/json"


def item_path(fmt: str, article_id: str) -> str:
    ext = "xml" if fmt == "newsml" else "json"
    return f"/partners/{fmt}/items/{article_id}.{ext}"


def section_path(fmt: str, section: str) -> str:
    return f"/partners/{fmt}/{section}.{'xml' if fmt == 'newsml' else 'json'}"


@dataclass(frozen=True)
class Pulled:
    """One item of a pull, whatever the format."""

    id: str
    version: int
    status: str  # "usable", "withheld" or "canceled"
    embargoed: str | None  # the embargo time shown, if any
    headline: str = ""


@dataclass(frozen=True)
class Page:
    status: int
    cursor: str
    items: list[Pulled]
    etag: str | None
    body: bytes


def article_id_of(guid: str) -> str:
    prefix = f"urn:newsml:{PROVIDER}:"
    assert guid.startswith(prefix), guid
    return guid.removeprefix(prefix)


def news_items(root: etree._Element) -> list[Pulled]:
    found = []
    items = root.xpath("//g:newsItem", namespaces=NS)
    assert isinstance(items, list)
    for item in items:
        assert isinstance(item, etree._Element)
        status = item.xpath("string(g:itemMeta/g:pubStatus/@qcode)", namespaces=NS)
        embargo = item.xpath("string(g:itemMeta/g:embargoed)", namespaces=NS)
        headline = item.xpath("string(g:contentMeta/g:headline)", namespaces=NS)
        found.append(
            Pulled(
                id=article_id_of(str(item.get("guid"))),
                version=int(str(item.get("version"))),
                status=str(status).removeprefix("stat:"),
                embargoed=str(embargo) or None,
                headline=str(headline),
            )
        )
    return found


def ninjs_items(document: dict[str, Any]) -> list[Pulled]:
    return [
        Pulled(
            id=article_id_of(item["uri"]),
            version=int(item["version"]),
            status=item["pubstatus"],
            embargoed=item.get("embargoed"),
            headline=item["headlines"][0]["value"],
        )
        for item in document["items"]
    ]


async def pull(
    client: Client,
    fmt: str,
    section: str,
    headers: dict[str, str],
    since: str | None = None,
    extra: dict[str, str] | None = None,
) -> Page:
    """One pull; checks the cursor travels in the header and (on 200) inside the document."""
    params = {"since": since} if since is not None else {}
    async with client.get(
        section_path(fmt, section), headers={**headers, **(extra or {})}, params=params
    ) as resp:
        body = await resp.read()
        assert resp.status in (200, 204, 304), (resp.status, body[:500])
        cursor = resp.headers["X-Next-Cursor"]
        assert cursor and len(cursor) <= 64
        etag = resp.headers.get("ETag")
        items: list[Pulled] = []
        if resp.status == 200:
            if fmt == "newsml":
                assert resp.content_type == NEWSML_MESSAGE
                root = parse_xml(body)
                header_cursor = root.xpath(
                    "string(/g:newsMessage/g:header/g:headerExtProperty"
                    f"[@reluri='{NEXT_CURSOR_REL}']/@value)",
                    namespaces=NS,
                )
                assert header_cursor == cursor
                items = news_items(root)
            else:
                assert resp.content_type == JSON
                document = json.loads(body)
                assert document["next_cursor"] == cursor
                items = ninjs_items(document)
            assert items, "a 200 pull must carry at least one item"
        else:
            assert body == b""
        return Page(resp.status, cursor, items, etag, body)


async def pull_all(
    client: Client,
    fmt: str,
    section: str,
    headers: dict[str, str],
    since: str | None = None,
    max_pages: int = 1000,
) -> tuple[list[Pulled], str]:
    """Follow `X-Next-Cursor` until a 204; (every item in order, the final cursor)."""
    items: list[Pulled] = []
    for _ in range(max_pages):
        page = await pull(client, fmt, section, headers, since)
        if page.status == 204:
            assert since is None or page.cursor == since
            return items, page.cursor
        assert page.cursor != since, "a 200 must move the cursor"
        items.extend(page.items)
        since = page.cursor
    raise AssertionError(f"no 204 after {max_pages} pages")
