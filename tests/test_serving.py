"""Public serving over HTTP: feeds with conditional GET and compression, index, OPML, health."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import brotli
import feedparser
import lxml.html
import pytest
from lxml import etree
from multidict import CIMultiDictProxy

from syndicate.core.config import Settings
from syndicate.store.sqlite import SQLiteStore
from syndicate.web.app import create_app
from syndicate.web.keys import REGENERATOR, STORE
from tests.helpers.clients import Client
from tests.helpers.error_shape import error_body
from tests.helpers.records import hindi_record, record
from tests.helpers.settings import BASE_URL, SECTIONS, build_settings
from tests.helpers.stores import sqlite_store
from tests.helpers.texts import ARABIC_BODY, ARABIC_HEADLINE, HINDI_HEADLINE
from tests.helpers.tokens import create_token

AppFactory = Callable[[], Awaitable[Client]]
Headers = CIMultiDictProxy[str]

FEEDS = {
    "rss.xml": "application/rss+xml; charset=utf-8",
    "atom.xml": "application/atom+xml; charset=utf-8",
    "feed.json": "application/feed+json; charset=utf-8",
}
SLUGS = [*SECTIONS, "all"]
SECRET = "database_password = 'do-not-serve-me'"

VISIBLE = {
    "hi-1": hindi_record("hi-1"),
    "en-1": record("en-1"),
    "ar-1": record(
        "ar-1",
        headline=ARABIC_HEADLINE,
        body_html=ARABIC_BODY,
        language="ar",
        sections=["global"],
        published="2024-04-29T09:00:00+03:00",
    ),
    "biz-1": record("biz-1", sections=["business"], published="2024-06-01T08:00:00Z"),
}
HIDDEN = {
    "withdrawn-1": record("withdrawn-1", sections=["business", "global"]),
    "embargoed-1": record(
        "embargoed-1", sections=["technology", "global"], embargo_until="2099-03-01T09:00:00Z"
    ),
    "future-1": record("future-1", sections=["sport", "india"], published="2099-01-01T00:00:00Z"),
}


def _url(article_id: str) -> str:
    return str({**VISIBLE, **HIDDEN}[article_id]["canonical_url"])


@pytest.fixture
def settings_tmp(tmp_path: Path) -> Settings:
    # A config file next to the feeds folder: traversal tests must never reach it.
    (tmp_path / "syndicate.toml").write_text(SECRET + "\n", encoding="utf-8")
    return build_settings(tmp_path)


@pytest.fixture
async def serving_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with sqlite_store(tmp_path / "store.db") as store:
        now = datetime.now(UTC)
        for rec in [*VISIBLE.values(), *HIDDEN.values()]:
            await store.put(rec, now=now)
        await store.withdraw("withdrawn-1", now=now)
        yield store


@pytest.fixture
def make_app(aiohttp_client: Any, serving_store: SQLiteStore, settings_tmp: Settings) -> AppFactory:
    async def make() -> Client:
        client: Client = await aiohttp_client(
            create_app(settings_tmp, store=serving_store, run_scheduler=False)
        )
        return client

    return make


@pytest.fixture
async def client(make_app: AppFactory) -> Client:
    made = await make_app()
    results = await made.app[REGENERATOR].regenerate()
    assert [r.error for r in results] == [None] * len(SLUGS)
    await made.app[REGENERATOR].settle()  # the small gzip and brotli copies, made after
    return made


async def _get(client: Client, path: str, **headers: str) -> tuple[int, Headers, bytes]:
    # Identity unless the test asks: the client would otherwise offer gzip and undo it.
    sent = {"Accept-Encoding": "identity", **headers}
    resp = await client.get(path, headers=sent, auto_decompress=False)
    return resp.status, resp.headers, await resp.read()


def _links(path: str, body: bytes) -> set[str]:
    """Canonical URLs of the items of one feed, parsed by its format."""
    if path.endswith(".json"):
        return {item["url"] for item in json.loads(body)["items"]}
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.bozo_exception
    return {entry.link for entry in parsed.entries}


# -- every feed, its headers -----------------------------------------------------------------
@pytest.mark.parametrize("name", list(FEEDS))
@pytest.mark.parametrize("slug", SLUGS)
async def test_every_feed_is_served_with_its_headers(client: Client, slug: str, name: str) -> None:
    status, headers, body = await _get(client, f"/feeds/{slug}/{name}")
    assert status == 200
    assert headers["Content-Type"] == FEEDS[name]
    etag = headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert len(etag) > 10
    modified = parsedate_to_datetime(headers["Last-Modified"])
    assert modified.tzinfo is not None
    assert modified <= datetime.now(UTC) + timedelta(seconds=1)
    assert "Accept-Encoding" in headers["Vary"]
    assert "Content-Encoding" not in headers
    _links(name, body)  # parses


def _max_age(headers: Headers) -> int:
    directives = {}
    for part in headers["Cache-Control"].split(","):
        key, _, value = part.strip().partition("=")
        directives[key.strip().lower()] = value.strip()
    assert "public" in directives
    return int(directives["max-age"])


async def test_feeds_are_cached_at_most_a_minute_by_default(client: Client) -> None:
    # The fixture's timer runs hourly: the lifetime no longer follows it.
    _, headers, _ = await _get(client, "/feeds/global/rss.xml")
    assert 0 < _max_age(headers) <= 60


@pytest.mark.parametrize("configured", [{"feed_max_age": 17}, {"feed_max_age": "0"}])
async def test_a_configured_feed_max_age_is_the_feeds_lifetime(
    aiohttp_client: Any, serving_store: SQLiteStore, tmp_path: Path, configured: dict[str, Any]
) -> None:
    settings = build_settings(tmp_path, **configured)
    made: Client = await aiohttp_client(
        create_app(settings, store=serving_store, run_scheduler=False)
    )
    await made.app[REGENERATOR].regenerate()
    for name in FEEDS:
        status, headers, _ = await _get(made, f"/feeds/all/{name}")
        assert status == 200
        assert _max_age(headers) == int(configured["feed_max_age"])
        etag = headers["ETag"]
        status, headers, _ = await _get(made, f"/feeds/all/{name}", **{"If-None-Match": etag})
        assert status == 304
        assert _max_age(headers) == int(configured["feed_max_age"])


# -- which articles reach the public ----------------------------------------------------------
@pytest.mark.parametrize("name", list(FEEDS))
async def test_withdrawn_embargoed_and_future_articles_are_in_no_feed(
    client: Client, name: str
) -> None:
    hidden = {_url(i) for i in HIDDEN}
    seen: set[str] = set()
    for slug in SLUGS:
        status, _, body = await _get(client, f"/feeds/{slug}/{name}")
        assert status == 200
        links = _links(name, body)
        assert not links & hidden, (slug, links & hidden)
        seen |= links
    assert seen == {_url(i) for i in VISIBLE}
    _, _, body = await _get(client, f"/feeds/all/{name}")
    assert _links(name, body) == {_url(i) for i in VISIBLE}
    _, _, body = await _get(client, f"/feeds/global/{name}")
    assert _links(name, body) == {_url("hi-1"), _url("ar-1")}


async def test_a_withdrawal_leaves_the_feeds_at_the_next_regeneration(
    client: Client, serving_store: SQLiteStore
) -> None:
    await serving_store.withdraw("hi-1", now=datetime.now(UTC))
    await client.app[REGENERATOR].regenerate()
    for slug in ("global", "top-story", "all"):
        for name in FEEDS:
            _, _, body = await _get(client, f"/feeds/{slug}/{name}")
            assert _url("hi-1") not in _links(name, body)


@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
async def test_hindi_title_round_trips_through_feedparser(client: Client, name: str) -> None:
    _, _, body = await _get(client, f"/feeds/global/{name}")
    assert HINDI_HEADLINE.encode("utf-8") in body
    parsed = feedparser.parse(body)
    titles = {entry.link: entry.title for entry in parsed.entries}
    assert titles[_url("hi-1")] == HINDI_HEADLINE
    assert titles[_url("hi-1")].encode("utf-8") == HINDI_HEADLINE.encode("utf-8")
    assert titles[_url("ar-1")] == ARABIC_HEADLINE


async def test_hindi_title_round_trips_through_json_feed(client: Client) -> None:
    _, _, body = await _get(client, "/feeds/all/feed.json")
    titles = {item["url"]: item["title"] for item in json.loads(body.decode("utf-8"))["items"]}
    assert titles[_url("hi-1")] == HINDI_HEADLINE


# -- conditional requests -----------------------------------------------------------------------
async def test_if_none_match_answers_304(client: Client) -> None:
    path = "/feeds/global/atom.xml"
    _, headers, _ = await _get(client, path)
    etag = headers["ETag"]
    for value in (etag, f'"nope", {etag}', f'"a","b" , {etag}', f"W/{etag}", "*"):
        status, got, body = await _get(client, path, **{"If-None-Match": value})
        assert (status, body) == (304, b""), value
        assert got["ETag"] == etag
        assert "Accept-Encoding" in got["Vary"]
    status, _, body = await _get(client, path, **{"If-None-Match": '"something-else"'})
    assert status == 200 and body


async def test_if_modified_since(client: Client) -> None:
    path = "/feeds/india/rss.xml"
    _, headers, _ = await _get(client, path)
    modified = parsedate_to_datetime(headers["Last-Modified"])
    later = format_datetime(modified + timedelta(hours=1), usegmt=True)
    earlier = format_datetime(modified - timedelta(seconds=1), usegmt=True)
    for value in (headers["Last-Modified"], later):
        status, got, body = await _get(client, path, **{"If-Modified-Since": value})
        assert (status, body) == (304, b""), value
        assert got["ETag"] == headers["ETag"]
    status, _, body = await _get(client, path, **{"If-Modified-Since": earlier})
    assert status == 200 and body
    status, _, body = await _get(client, path, **{"If-Modified-Since": "not a date"})
    assert status == 200 and body


async def test_if_none_match_takes_precedence_over_if_modified_since(client: Client) -> None:
    path = "/feeds/india/feed.json"
    _, headers, _ = await _get(client, path)
    later = format_datetime(
        parsedate_to_datetime(headers["Last-Modified"]) + timedelta(hours=1), usegmt=True
    )
    stale = {"If-None-Match": '"an-old-etag"', "If-Modified-Since": later}
    status, _, body = await _get(client, path, **stale)
    assert status == 200 and body
    fresh = {"If-None-Match": headers["ETag"], "If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}
    status, _, body = await _get(client, path, **fresh)
    assert (status, body) == (304, b"")


async def test_head_has_the_headers_and_no_body(client: Client) -> None:
    _, get_headers, get_body = await _get(client, "/feeds/all/rss.xml")
    resp = await client.head("/feeds/all/rss.xml", headers={"Accept-Encoding": "identity"})
    assert resp.status == 200
    assert await resp.read() == b""
    for name in ("ETag", "Last-Modified", "Content-Type", "Cache-Control"):
        assert resp.headers[name] == get_headers[name]
    assert int(resp.headers["Content-Length"]) == len(get_body)


# -- compression -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(FEEDS))
async def test_gzip_when_accepted_is_the_same_document(client: Client, name: str) -> None:
    path = f"/feeds/all/{name}"
    _, plain_headers, plain = await _get(client, path)
    status, headers, body = await _get(client, path, **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"]
    assert headers["ETag"] == plain_headers["ETag"]
    assert len(body) < len(plain)
    assert gzip.decompress(body) == plain


async def test_brotli_when_accepted(client: Client) -> None:
    _, _, plain = await _get(client, "/feeds/global/rss.xml")
    status, headers, body = await _get(
        client, "/feeds/global/rss.xml", **{"Accept-Encoding": "gzip, deflate, br"}
    )
    assert (status, headers["Content-Encoding"]) == (200, "br")
    assert brotli.decompress(body) == plain


@pytest.mark.parametrize("accept", ["gzip;q=0", "gzip;q=0, br;q=0", "deflate", "identity"])
async def test_identity_when_nothing_we_hold_is_accepted(client: Client, accept: str) -> None:
    _, _, plain = await _get(client, "/feeds/global/rss.xml")
    status, headers, body = await _get(
        client, "/feeds/global/rss.xml", **{"Accept-Encoding": accept}
    )
    assert status == 200
    assert "Content-Encoding" not in headers
    assert body == plain


# -- what is not a feed -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    ["/feeds/astrology/rss.xml", "/feeds/global/index.html", "/feeds/global/rss.xml.gz"],
)
async def test_unknown_section_or_file_is_404_in_the_error_shape(client: Client, path: str) -> None:
    resp = await client.get(path)
    await error_body(resp, 404)


async def test_feeds_not_generated_yet_are_404(make_app: AppFactory) -> None:
    fresh = await make_app()
    errors = await error_body(await fresh.get("/feeds/global/rss.xml"), 404)
    assert "not been generated" in errors[0]["message"]


async def _raw_get(client: Client, target: str) -> tuple[int, bytes]:
    """Send the request target exactly as written (clients would normalise the dots)."""
    host, port = client.server.host, client.server.port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("ascii")
        )
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize(
    "target",
    [
        "/feeds/../syndicate.toml",
        "/feeds/global/../../syndicate.toml",
        "/feeds/global/..%2f..%2fsyndicate.toml",
        "/feeds/global/..%2F..%2Fsyndicate.toml",
        "/feeds/%2e%2e/x",
        "/feeds/%2e%2e/syndicate.toml",
        "/feeds/global/%2e%2e%2f%2e%2e%2fsyndicate.toml",
        "/feeds/..%2f/syndicate.toml",
        "/static/..%2f..%2fconfig.py",
        "/static/../../syndicate.toml",
    ],
)
async def test_path_traversal_never_leaves_the_feeds(client: Client, target: str) -> None:
    status, body = await _raw_get(client, target)
    assert status != 200
    assert status < 500
    assert b"do-not-serve-me" not in body
    assert b"database_password" not in body


# -- same state, same bytes ------------------------------------------------------------------
async def test_same_store_state_gives_the_same_etags(client: Client, make_app: AppFactory) -> None:
    paths = [f"/feeds/{slug}/{name}" for slug in SLUGS for name in FEEDS]
    before = {p: (await _get(client, p))[1] for p in paths}
    results = await client.app[REGENERATOR].regenerate()
    assert not any(r.changed for r in results)
    for path in paths:
        _, headers, _ = await _get(client, path)
        assert headers["ETag"] == before[path]["ETag"], path
        assert headers["Last-Modified"] == before[path]["Last-Modified"], path

    # Another instance on the same store serves the same bytes, before and after it regenerates.
    other = await make_app()
    for path in paths:
        _, headers, _ = await _get(other, path)
        assert headers["ETag"] == before[path]["ETag"], path
    assert not any(r.changed for r in await other.app[REGENERATOR].regenerate())
    for path in paths:
        _, headers, _ = await _get(other, path)
        assert headers["ETag"] == before[path]["ETag"], path


async def test_a_change_changes_the_etag(client: Client, serving_store: SQLiteStore) -> None:
    _, before, _ = await _get(client, "/feeds/india/rss.xml")
    _, other_before, _ = await _get(client, "/feeds/business/rss.xml")
    await serving_store.put(record("en-1", headline="Corrected headline"), now=datetime.now(UTC))
    await client.app[REGENERATOR].regenerate()
    _, after, body = await _get(client, "/feeds/india/rss.xml")
    assert after["ETag"] != before["ETag"]
    assert "Corrected headline" in {e.title for e in feedparser.parse(body).entries}
    status, _, _ = await _get(client, "/feeds/india/rss.xml", **{"If-None-Match": before["ETag"]})
    assert status == 200
    _, other_after, _ = await _get(client, "/feeds/business/rss.xml")
    assert other_after["ETag"] == other_before["ETag"]


async def test_last_modified_is_never_later_than_date_for_changes_in_one_second(
    client: Client, serving_store: SQLiteStore
) -> None:
    # RFC 9110: a Last-Modified later than the response's Date is not allowed. (It used to be
    # pushed a second ahead per change: a burst of 20 went 17 s into the future.)
    _, before, _ = await _get(client, "/feeds/india/rss.xml")
    for n in range(5):
        await serving_store.put(record("en-1", headline=f"Version {n}"), now=datetime.now(UTC))
        await client.app[REGENERATOR].regenerate(["india"])
        _, after, _ = await _get(client, "/feeds/india/rss.xml")
        assert parsedate_to_datetime(after["Last-Modified"]) <= parsedate_to_datetime(after["Date"])
    assert after["ETag"] != before["ETag"]
    # The ETag is the strong validator: a reader holding the old one gets the new bytes.
    status, _, _ = await _get(client, "/feeds/india/rss.xml", **{"If-None-Match": before["ETag"]})
    assert status == 200


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("br;q=0.5, gzip", "gzip"), ("gzip;q=0.2, br;q=0.8", "br"), ("br", "br"), ("*", "br")],
)
async def test_the_client_s_preference_between_gzip_and_brotli(
    client: Client, accept: str, expected: str
) -> None:
    status, headers, _ = await _get(client, "/feeds/global/rss.xml", **{"Accept-Encoding": accept})
    assert (status, headers["Content-Encoding"]) == (200, expected)


# -- index, OPML, health, metrics, stylesheet -----------------------------------------------------
async def test_index_lists_every_section_with_autodiscovery(client: Client) -> None:
    status, headers, body = await _get(client, "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    doc = lxml.html.fromstring(body)
    alternates = doc.xpath('//head/link[@rel="alternate"]')
    found = {(link.get("type"), link.get("href")) for link in alternates}
    expected = {
        (media.split(";")[0], f"{BASE_URL}/feeds/{slug}/{name}")
        for slug in SLUGS
        for name, media in FEEDS.items()
    }
    assert found == expected
    assert all(link.get("title") for link in alternates)
    listed = {card.get("id") for card in doc.xpath("//body//section[@id]")}
    assert listed == set(SLUGS)
    body_links = set(doc.xpath("//body//a/@href"))
    assert {href for _, href in expected} <= body_links
    assert "वैश्विक" in doc.text_content()


async def test_opml_lists_every_feed(client: Client) -> None:
    status, headers, body = await _get(client, "/feeds/opml.xml")
    assert status == 200
    assert headers["Content-Type"] == "text/x-opml; charset=utf-8"
    root = etree.fromstring(body)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.xpath("/opml/head/title/text()")
    urls = root.xpath("/opml/body//outline/@xmlUrl")
    # One subscription per declared section, its RSS feed (`all` would repeat every story).
    assert len(urls) == len(set(urls))
    assert set(urls) == {f"{BASE_URL}/feeds/{slug}/rss.xml" for slug in SECTIONS}
    for outline in root.xpath("/opml/body//outline[@xmlUrl]"):
        assert outline.get("type") == "rss" and outline.get("text")


async def test_healthz(client: Client) -> None:
    status, headers, body = await _get(client, "/healthz")
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(body) == {"status": "ok"}


async def test_metrics_count_feed_requests(client: Client) -> None:
    await _get(client, "/feeds/global/rss.xml")
    await _get(client, "/feeds/astrology/rss.xml")
    scraper = await create_token(client.app[STORE], "metrics")
    status, headers, body = await _get(client, "/metrics", Authorization=f"Bearer {scraper}")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in body.decode("utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    assert samples['syndicate_feed_requests_total{status="200"}'] >= 1
    assert samples['syndicate_feed_requests_total{status="404"}'] >= 1
    assert any(k.startswith("syndicate_regenerations_total{") for k in samples)


async def test_stylesheet_is_served(client: Client) -> None:
    status, headers, body = await _get(client, "/static/feed.xsl")
    assert status == 200
    assert headers["Content-Type"] == "text/xsl; charset=utf-8"
    root = etree.fromstring(body)
    assert root.tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet"


@pytest.mark.parametrize("path", ["/", "/feeds/opml.xml", "/static/feed.xsl"])
async def test_fixed_pages_have_an_etag_and_answer_304(client: Client, path: str) -> None:
    status, headers, body = await _get(client, path)
    assert status == 200 and body
    etag = headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    status, again, body = await _get(client, path, **{"If-None-Match": f'"x", {etag}'})
    assert (status, body, again["ETag"]) == (304, b"", etag)
