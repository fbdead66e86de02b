"""Helpers for the partner endpoint tests: settings, tokens, records, pulls parsed into items.

Everything a test checks is parsed (XML by XPath with namespaces, JSON by `json.loads`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from lxml import etree

from syndicate.clock import utc_now
from syndicate.config import Settings
from syndicate.model import Role
from syndicate.store.base import Store
from syndicate.tokens import new_token
from syndicate.validate import validate_record
from syndicate.web.app import create_app
from tests.partner_fixtures import parse_xml

NS = {"g": "http://iptc.org/std/nar/2006-10-01/", "h": "http://www.w3.org/1999/xhtml"}
PROVIDER = "syndicate.example"
NEXT_CURSOR_REL = "https://news.example/partners/concepts/next-cursor"
NEWSML_MESSAGE = "application/vnd.iptc.g2.newsmessage+xml"
NEWSML_ITEM = "application/vnd.iptc.g2.newsitem+xml"
JSON = "application/json"


def partner_settings(settings: Settings, page_size: int = 3) -> Settings:
    """The test sections with small pages and a known provider and base URL."""
    return dataclasses.replace(
        settings,
        provider=PROVIDER,
        base_url="https://news.example",
        partner_page_size=page_size,
    )


async def bearer(
    store: Store,
    sections: tuple[str, ...] = ("global",),
    *,
    embargoed: bool = False,
    role: Role = "partner",
) -> dict[str, str]:
    """A fresh token, stored by hash; the Authorization header that carries it."""
    secret, digest = new_token()
    await store.add_token(
        name=f"{role}-{digest[:8]}",
        role=role,
        token_hash=digest,
        sections=sections,
        embargoed=embargoed,
        now=datetime.now(UTC),
    )
    return {"Authorization": f"Bearer {secret}"}


def record(article_id: str, settings: Settings, **fields: Any) -> dict[str, Any]:
    """A validated, sanitised record (what the store expects), in section `global` by default."""
    raw: dict[str, Any] = {
        "id": article_id,
        "headline": f"Headline of {article_id}",
        "body_html": f"<p>Body of {article_id}.</p>",
        "language": "en",
        "sections": ["global"],
        "published": "2024-06-19T10:00:00+05:30",
        "canonical_url": f"https://news.example/global/{article_id}",
    }
    raw.update(copy.deepcopy(fields))
    return validate_record(raw, settings)


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
    client: TestClient[Any, Any],
    fmt: str,
    section: str,
    headers: dict[str, str],
    since: str | None = None,
    extra: dict[str, str] | None = None,
) -> Page:
    """One pull; checks the cursor travels in the header and (on 200) inside the document."""
    path = (
        f"/partners/newsml/{section}.xml" if fmt == "newsml" else f"/partners/ninjs/{section}.json"
    )
    params = {"since": since} if since is not None else {}
    async with client.get(path, headers={**headers, **(extra or {})}, params=params) as resp:
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
    client: TestClient[Any, Any],
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


async def error_of(resp: Any, status: int) -> str:
    """Assert `status` and the one error shape; the first message."""
    assert resp.status == status, (resp.status, await resp.text())
    assert resp.content_type == JSON
    body = await resp.json()
    assert set(body) == {"errors"} and body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"path", "message"}, error
        assert isinstance(error["path"], str) and error["message"], error
    return str(body["errors"][0]["message"])


Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
def small(settings: Settings) -> Settings:
    """The test sections with pages of three, to make paging show."""
    return partner_settings(settings, page_size=3)


@pytest.fixture
def make_client(aiohttp_client: Any, store: Store, small: Settings) -> MakeClient:
    """A test client on `store`; `clock` fixes the app's "now"."""

    async def make(clock: datetime | None = None, settings: Settings = small) -> Client:
        fixed = (lambda: clock) if clock is not None else utc_now
        app = create_app(settings, store=store, run_scheduler=False, clock=fixed)
        client: Client = await aiohttp_client(app)
        return client

    return make
