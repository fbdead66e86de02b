"""Pages a person can read: `/`, `/sections/{slug}` and `/articles/{id}`, over HTTP.

Pages are parsed (lxml.html) and compared with the feeds they show (the JSON Feed, parsed);
the article page runs on both stores.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from syndicate.store.base import Store
from syndicate.web.keys import REGENERATOR, STORE
from tests.helpers.clients import Client
from tests.helpers.imports import seed_page
from tests.helpers.readers import HIDDEN_HEADLINES, reader_site
from tests.helpers.records import record
from tests.helpers.settings import BASE_URL, READER_SECTIONS
from tests.helpers.texts import ARABIC_HEADLINE, HINDI_HEADLINE
from tests.helpers.tokens import auth_header, create_token


@pytest.fixture
async def client(store: Store, tmp_path: Path) -> AsyncIterator[Client]:
    async with reader_site(store, tmp_path) as made:
        yield made


async def _get(client: Client, path: str, **headers: str) -> tuple[int, Any, bytes]:
    sent = {"Accept-Encoding": "identity", **headers}
    resp = await client.get(path, headers=sent, auto_decompress=False, allow_redirects=False)
    return resp.status, resp.headers, await resp.read()


async def _page(client: Client, path: str) -> Any:
    status, headers, body = await _get(client, path)
    assert status == 200, (path, body[:300])
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    return lxml.html.fromstring(body)


async def _json_feed(client: Client, slug: str) -> dict[str, Any]:
    status, _, body = await _get(client, f"/feeds/{slug}/feed.json")
    assert status == 200
    feed: dict[str, Any] = json.loads(body)
    return feed


def _text(doc: Any) -> str:
    return " ".join(doc.text_content().split())


# -- a section's page ---------------------------------------------------------------------
async def test_a_section_page_shows_what_its_feed_shows_in_its_language(client: Client) -> None:
    doc = await _page(client, "/sections/global")
    html = doc.getroottree().getroot()
    assert (html.get("lang"), html.get("dir")) == ("hi", "ltr")
    assert doc.findtext(".//h1") == "वैश्विक"
    feed = await _json_feed(client, "global")
    stories = doc.xpath('//li[contains(@class, "story")]')
    assert [s.xpath("string(.//h3/a/@href)") for s in stories] == [
        item["url"] for item in feed["items"]
    ]
    assert [s.xpath("string(.//h3/a)") for s in stories] == [
        item["title"] for item in feed["items"]
    ]
    for story, item in zip(stories, feed["items"], strict=True):
        stamp = story.xpath("string(.//time/@datetime)")
        assert datetime.fromisoformat(stamp) == datetime.fromisoformat(item["date_published"])
        assert story.xpath("string(.//time)").strip()
        assert item["summary"] in _text(story)
    # The Arabic story in a Hindi section reads right to left, in its own language.
    arabic = [s for s in stories if s.xpath("string(.//h3/a)") == ARABIC_HEADLINE]
    assert [(s.get("lang"), s.get("dir")) for s in arabic] == [("ar", "rtl")]
    assert "मई 2024" in _text(doc)  # the Hindi story's date, in Hindi
    for headline in HIDDEN_HEADLINES.values():
        assert headline not in _text(doc)


async def test_a_section_page_has_subscribe_and_autodiscovery_links(client: Client) -> None:
    doc = await _page(client, "/sections/business")
    expected = {
        ("application/rss+xml", f"{BASE_URL}/feeds/business/rss.xml"),
        ("application/atom+xml", f"{BASE_URL}/feeds/business/atom.xml"),
        ("application/feed+json", f"{BASE_URL}/feeds/business/feed.json"),
    }
    head = doc.xpath('//head/link[@rel="alternate"]')
    assert {(link.get("type"), link.get("href")) for link in head} == expected
    assert all(link.get("title") for link in head)
    subscribe = doc.xpath('//nav[contains(@class, "subscribe")]//a')
    assert {(a.get("type"), a.get("href")) for a in subscribe} == expected
    assert [a.text for a in subscribe] == ["RSS", "Atom", "JSON Feed"]
    assert doc.xpath('//head/link[@rel="outline"]/@href') == [f"{BASE_URL}/feeds/opml.xml"]
    # A story without a summary is shown by the opening of its body, cut at a word.
    story = doc.xpath('//li[contains(@class, "story")][.//a[contains(., "cycle lanes")]]')[0]
    summary = story.xpath('string(.//p[@class="summary"])')
    assert summary.startswith("The city council approved 12 km") and summary.endswith("…")
    assert "middle. Work on" in summary  # paragraphs do not run together
    # A headline's `<` and `&` are characters, never markup.
    assert "Markets steady <after> a week of gains & losses" in _text(doc)


async def test_a_right_to_left_section_page(client: Client) -> None:
    doc = await _page(client, "/sections/arab-world")
    html = doc.getroottree().getroot()
    assert (html.get("lang"), html.get("dir")) == ("ar", "rtl")
    assert doc.findtext(".//h1") == "العالم العربي"
    assert doc.xpath('string(//h2[@id="latest-title"])') == "آخر الأخبار"
    assert doc.xpath('//li[contains(@class, "story")]//h3/a/text()') == [ARABIC_HEADLINE]
    assert HIDDEN_HEADLINES["embargoed-1"] not in _text(doc)


async def test_pages_are_cached_with_an_etag_gzip_and_a_strict_policy(client: Client) -> None:
    for path in ("/", "/sections/global", "/articles/hi-1"):
        status, headers, body = await _get(client, path)
        assert status == 200
        etag = headers["ETag"]
        assert etag.startswith('"') and len(etag) > 10
        assert "max-age=45" in headers["Cache-Control"]
        policy = headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        status, again, empty = await _get(client, path, **{"If-None-Match": etag})
        assert (status, empty, again["ETag"]) == (304, b"", etag)
        if path != "/articles/hi-1":
            status, zipped, data = await _get(client, path, **{"Accept-Encoding": "gzip"})
            assert zipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped["Vary"]
            assert gzip.decompress(data) == body
            since = headers["Last-Modified"]
            status, _, _ = await _get(client, path, **{"If-Modified-Since": since})
            assert status == 304


async def test_a_section_page_follows_its_feed(client: Client) -> None:
    _, before, _ = await _get(client, "/sections/business")
    store = client.app[STORE]
    fresh = record(
        "en-new",
        headline="Port strike ends after talks",
        sections=["business"],
        published="2024-07-01T10:00:00Z",
    )
    await store.put(fresh, now=datetime.now(UTC))
    # Stored, not yet regenerated: the page shows what the feed shows, not the store.
    assert "Port strike" not in _text(await _page(client, "/sections/business"))
    await client.app[REGENERATOR].regenerate(["business"])
    _, after, _ = await _get(client, "/sections/business")
    assert after["ETag"] != before["ETag"]
    assert "Port strike ends after talks" in _text(await _page(client, "/sections/business"))
    await store.withdraw("en-new", now=datetime.now(UTC))
    await client.app[REGENERATOR].regenerate(["business"])
    assert "Port strike" not in _text(await _page(client, "/sections/business"))


async def test_unknown_sections_answer_404(client: Client) -> None:
    for path in ("/sections/astrology", "/sections/Global", "/sections/..%2Fetc"):
        status, _, _ = await _get(client, path)
        assert status == 404, path


# -- the index -------------------------------------------------------------------------------
async def test_the_index_lists_every_section_with_headlines_that_lead_somewhere(
    client: Client,
) -> None:
    doc = await _page(client, "/")
    cards = doc.xpath('//section[contains(@class, "section-card")]')
    assert [c.get("id") for c in cards] == [*READER_SECTIONS, "all"]
    directions = {c.get("id"): (c.get("lang"), c.get("dir")) for c in cards}
    assert directions["arab-world"] == ("ar", "rtl")
    assert directions["global"] == ("hi", "ltr")
    global_card = cards[0]
    feed = await _json_feed(client, "global")
    assert global_card.xpath('.//ul[@class="headlines"]//a/@href') == [
        item["url"] for item in feed["items"][:3]
    ]
    assert HINDI_HEADLINE in _text(global_card)
    for headline in HIDDEN_HEADLINES.values():
        assert headline not in _text(doc)
    # Every link on the site itself answers: sections, articles, feeds, the stylesheet.
    links = set(doc.xpath("//a/@href")) | set(doc.xpath("//link/@href"))
    own = {link.removeprefix(BASE_URL) for link in links if link.startswith((BASE_URL, "/"))}
    assert {"/sections/global", "/articles/hi-1", "/feeds/opml.xml"} <= own
    for path in sorted(own):
        status, _, _ = await _get(client, path, Accept="*/*")
        assert status == 200, path


async def test_the_stylesheet_is_served_for_a_year_under_its_hash(client: Client) -> None:
    doc = await _page(client, "/")
    (href,) = doc.xpath('//head/link[@rel="stylesheet"]/@href')
    assert href.startswith("/static/public/reader.css?v=")
    status, headers, body = await _get(client, href)
    assert status == 200 and headers["Content-Type"] == "text/css; charset=utf-8"
    assert "immutable" in headers["Cache-Control"] and b".story" in body


# -- one article ----------------------------------------------------------------------------
async def test_an_article_page_in_its_language_and_direction(client: Client) -> None:
    doc = await _page(client, "/articles/ar-1")
    html = doc.getroottree().getroot()
    assert (html.get("lang"), html.get("dir")) == ("ar", "rtl")
    assert doc.findtext(".//h1") == ARABIC_HEADLINE
    assert doc.xpath('//link[@rel="canonical"]/@href') == [f"{BASE_URL}/articles/ar-1"]
    assert "ارتفعت الأسواق العالمية" in doc.xpath('string(//div[@class="body"])')
    assert "ليلى حسن" in _text(doc)
    assert doc.xpath('//p[@class="kicker"]/a/@href') == [
        "/sections/arab-world",
        "/sections/global",
    ]
    doc = await _page(client, "/articles/hi-1")
    html = doc.getroottree().getroot()
    assert (html.get("lang"), html.get("dir")) == ("hi", "ltr")
    assert doc.findtext(".//h1") == HINDI_HEADLINE
    assert doc.xpath("//b/text()") == ["शेयर बाज़ार"]  # the body's own (sanitised) markup
    assert not doc.xpath('//p[@class="original"]')  # this page is the article's own URL


async def test_an_article_published_elsewhere_points_there(client: Client) -> None:
    doc = await _page(client, "/articles/en-2")
    canonical = "https://elsewhere.example/markets/en-2"
    assert doc.xpath('//link[@rel="canonical"]/@href') == [canonical]
    assert doc.xpath('//p[@class="original"]/a/@href') == [canonical]
    assert doc.findtext(".//h1") == "Markets steady <after> a week of gains & losses"
    assert not doc.xpath("//after")


async def test_held_withdrawn_and_unknown_articles_answer_the_same_404(client: Client) -> None:
    answers = []
    for article_id in ("embargoed-1", "future-1", "withdrawn-1", "no-such-story"):
        status, headers, body = await _get(client, f"/articles/{article_id}")
        assert status == 404
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        answers.append(body.decode("utf-8").replace(article_id, "ID"))
        for headline in HIDDEN_HEADLINES.values():
            assert headline.encode() not in body
    assert len(set(answers)) == 1, answers


async def test_an_embargoed_article_is_readable_once_released(client: Client) -> None:
    store = client.app[STORE]
    soon = datetime.now(UTC) + timedelta(seconds=1)
    past = datetime.now(UTC) - timedelta(seconds=5)
    await store.put(
        record("embargo-past", sections=["business"], embargo_until=past.isoformat()),
        now=datetime.now(UTC),
    )
    status, _, _ = await _get(client, "/articles/embargo-past")
    assert status == 200
    await store.put(
        record("embargo-soon", sections=["business"], embargo_until=soon.isoformat()),
        now=datetime.now(UTC),
    )
    status, _, _ = await _get(client, "/articles/embargo-soon")
    assert status == 404


async def test_an_imported_page_without_a_url_is_read_at_its_own_address(client: Client) -> None:
    # Issue 15: a scraped page with no URL of its own gets `{base_url}/articles/{id}`.
    token = await create_token(client.app[STORE], "editor")
    resp = await client.post(
        "/api/import/page?section=global",
        data=seed_page().encode("utf-8"),
        headers={"Content-Type": "text/plain; charset=utf-8", **auth_header(token)},
    )
    assert resp.status == 201, await resp.text()
    imported = (await resp.json())["record"]
    assert imported["canonical_url"] == f"{BASE_URL}/articles/{imported['id']}"
    doc = await _page(client, imported["canonical_url"].removeprefix(BASE_URL))
    html = doc.getroottree().getroot()
    assert (html.get("lang"), html.get("dir")) == ("hi", "ltr")
    assert doc.findtext(".//h1") == imported["headline"]
    assert doc.xpath('//link[@rel="canonical"]/@href') == [imported["canonical_url"]]
    assert not doc.xpath('//p[@class="original"]')
    related = doc.xpath('//aside[@class="related"]//li')
    assert [" ".join(li.text_content().split()) for li in related] == [
        r["title"] for r in imported["related"]
    ]
