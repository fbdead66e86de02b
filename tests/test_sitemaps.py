"""Sitemaps on both stores, checked by parsing: the Google News sitemap (last 48 hours, at most
1,000 URLs, publication name and language, dates with their offsets, nothing held or
withdrawn), the sitemap index of section sitemaps, and robots.txt naming them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.robotparser import RobotFileParser

import pytest
from lxml import etree

from syndicate.render.sitemap import news_language
from syndicate.store.base import Store
from syndicate.web.keys import STORE
from syndicate.web.reach import ONDEMAND
from tests.helpers.archives import path_of
from tests.helpers.clients import Client, app_on, fetch, regenerate
from tests.helpers.records import record
from tests.helpers.settings import BASE_URL, build_settings

SM = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
NS = {"sm": SM, "news": NEWS}
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _record(article_id: str, published: datetime, **changes: Any) -> dict[str, Any]:
    """In `india`, with markup-like text in the headline (the sitemap must escape it)."""
    values = {"headline": f"Headline {article_id} <&>", "published": published.isoformat()}
    return record(article_id, **{**values, **changes})


def _recent(minutes: float) -> datetime:
    # In India's offset: the sitemap must keep each article's own offset.
    return (datetime.now(UTC) - timedelta(minutes=minutes)).astimezone(
        datetime.fromisoformat("2024-01-01T00:00:00+05:30").tzinfo
    )


@pytest.fixture
async def client(store: Store, tmp_path: Path) -> AsyncIterator[Client]:
    now = datetime.now(UTC)
    records = [
        _record("new-1", _recent(10), language="hi", headline="रूस में चुनाव"),
        _record("new-2", _recent(60), sections=["global", "india"], language="en-IN"),
        _record("old-1", _recent(49 * 60)),  # older than two days: not news any more
        _record("held-1", _recent(5), embargo_until="2099-01-01T00:00:00Z"),
        _record("killed-1", _recent(20)),
        _record("future-1", datetime(2099, 1, 1, tzinfo=UTC)),
        _record("zh-1", _recent(30), language="zh-Hant", sections=["global"]),
    ]
    async with app_on(store, build_settings(tmp_path, render_workers=0)) as made:
        await store.put_many(records, now=now)
        await store.withdraw("killed-1", now=now)
        await regenerate(made)
        yield made


def _xml(body: bytes) -> etree._Element:
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    return etree.fromstring(body)


def news_entries(root: etree._Element) -> list[dict[str, str]]:
    """Every url of a news sitemap, checked for the elements Google requires."""
    assert root.tag == f"{{{SM}}}urlset" and root.nsmap.get("news") == NEWS
    out = []
    for url in root.findall("sm:url", NS):
        news = url.find("news:news", NS)
        assert news is not None
        fields = {
            "loc": url.findtext("sm:loc", "", NS),
            "name": news.findtext("news:publication/news:name", "", NS),
            "language": news.findtext("news:publication/news:language", "", NS),
            "date": news.findtext("news:publication_date", "", NS),
            "title": news.findtext("news:title", "", NS),
        }
        assert all(fields.values()), fields
        assert W3C_DATETIME.match(fields["date"]), fields["date"]
        out.append(fields)
    assert len(out) <= 1000
    return out


async def test_the_news_sitemap(client: Client) -> None:
    status, headers, body = await fetch(client, "/sitemaps/news.xml")
    assert status == 200 and headers["Content-Type"] == "application/xml; charset=utf-8"
    entries = news_entries(_xml(body))
    assert [e["loc"].rsplit("/", 1)[1] for e in entries] == ["new-1", "zh-1", "new-2"]
    assert {e["name"] for e in entries} == {"Syndicate"}
    assert [e["language"] for e in entries] == ["hi", "zh-tw", "en"]
    # The date as the article states it, its own offset kept.
    assert all(e["date"].endswith("+05:30") for e in entries)
    first = datetime.fromisoformat(entries[0]["date"])
    assert first.tzinfo is not None and datetime.now(UTC) - first < timedelta(hours=1)
    assert entries[0]["title"] == "रूस में चुनाव"
    assert headers["Cache-Control"] == "public, max-age=60" and headers["ETag"]
    status, _, _ = await fetch(client, "/sitemaps/news.xml", **{"If-None-Match": headers["ETag"]})
    assert status == 304


async def test_the_news_sitemap_holds_at_most_a_thousand_urls(client: Client) -> None:
    now = datetime.now(UTC)
    many = [_record(f"bulk-{n:04d}", _recent(100 + n / 10)) for n in range(1005)]
    await client.app[STORE].put_many(many, now=now)
    await client.app[ONDEMAND].catch_up()
    _, _, body = await fetch(client, "/sitemaps/news.xml")
    entries = news_entries(_xml(body))
    assert len(entries) == 1000
    dates = [datetime.fromisoformat(e["date"]) for e in entries]
    assert dates == sorted(dates, reverse=True)  # the newest thousand


async def test_the_sitemap_index_and_section_sitemaps(client: Client) -> None:
    status, _, body = await fetch(client, "/sitemaps/index.xml")
    assert status == 200
    index = _xml(body)
    assert index.tag == f"{{{SM}}}sitemapindex"
    locations = index.xpath("sm:sitemap/sm:loc/text()", namespaces=NS)
    sections = ["global", "top-story", "india", "business", "technology", "sport"]
    assert locations == [f"{BASE_URL}/sitemaps/sections/{s}/1.xml" for s in sections]
    listed: dict[str, list[str]] = {}
    for location in locations:
        status, _, body = await fetch(client, path_of(location))
        assert status == 200, location
        urlset = _xml(body)
        assert urlset.tag == f"{{{SM}}}urlset"
        urls = urlset.findall("sm:url", NS)
        assert len(urls) <= 50_000
        for url in urls:
            assert url.findtext("sm:loc", "", NS).startswith(BASE_URL + "/")
            assert W3C_DATETIME.match(url.findtext("sm:lastmod", "", NS))
        listed[location] = [u.findtext("sm:loc", "", NS).rsplit("/", 1)[1] for u in urls]
    assert listed[f"{BASE_URL}/sitemaps/sections/india/1.xml"] == ["new-1", "new-2", "old-1"]
    assert listed[f"{BASE_URL}/sitemaps/sections/global/1.xml"] == ["zh-1", "new-2"]
    assert listed[f"{BASE_URL}/sitemaps/sections/sport/1.xml"] == []
    for path in ("/sitemaps/sections/india/2.xml", "/sitemaps/sections/all/1.xml"):
        status, _, _ = await fetch(client, path)
        assert status == 404, path


async def test_robots_txt_names_the_sitemaps(client: Client) -> None:
    status, headers, body = await fetch(client, "/robots.txt")
    assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
    robots = RobotFileParser()
    robots.parse(body.decode().splitlines())
    assert robots.site_maps() == [f"{BASE_URL}/sitemaps/index.xml", f"{BASE_URL}/sitemaps/news.xml"]
    assert robots.can_fetch("*", f"{BASE_URL}/feeds/global/rss.xml")
    assert robots.can_fetch("*", f"{BASE_URL}/sitemaps/news.xml")
    assert not robots.can_fetch("*", f"{BASE_URL}/api/articles")
    assert not robots.can_fetch("*", f"{BASE_URL}/partners/newsml/global.xml")


def test_news_languages() -> None:
    assert [news_language(x) for x in ("hi", "hi-IN", "EN-gb", "zh", "zh-Hant", "zh-TW")] == [
        "hi",
        "hi",
        "en",
        "zh-cn",
        "zh-tw",
        "zh-tw",
    ]
