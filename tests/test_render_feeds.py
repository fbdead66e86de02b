"""RSS, Atom, JSON Feed and OPML renderers: parsed and checked field by field, never as strings."""

from __future__ import annotations

import calendar
import copy
import html
import json
import locale
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import pytest
from lxml import etree

from syndicate.core.config import Section, settings_from_mapping
from syndicate.core.model import WITHDRAWN, Article
from syndicate.render import FORMATS, FeedContext, feed_sections, fit, render_feed
from syndicate.render.opml import render_opml
from tests.helpers.feed_checks import NS, A, atom_problems, rss_problems, xpath
from tests.helpers.feeds import (
    HUB,
    articles,
    context,
    full_record,
    hindi_section,
    numbered_articles,
)
from tests.helpers.paths import ROOT
from tests.helpers.settings import BASE_URL
from tests.helpers.texts import ARABIC_HEADLINE, HINDI_HEADLINE, TRICKY_HEADLINE

URN = "urn:syndicate:article:"


def render(name: str, items: list[Article] | None = None, **ctx: Any) -> bytes:
    return FORMATS[name].render(
        context(**ctx), hindi_section(), articles() if items is None else items
    )


def xml(name: str, items: list[Article] | None = None, **ctx: Any) -> etree._Element:
    return etree.fromstring(render(name, items, **ctx))


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


# -- registry and context --------------------------------------------------------------


def test_formats_registry_names_files_and_media_types() -> None:
    assert {n: (f.filename, f.media_type) for n, f in FORMATS.items()} == {
        "rss": ("rss.xml", "application/rss+xml; charset=utf-8"),
        "atom": ("atom.xml", "application/atom+xml; charset=utf-8"),
        "json": ("feed.json", "application/feed+json; charset=utf-8"),
    }


def test_context_from_settings_uses_regen_interval_and_hub() -> None:
    settings = settings_from_mapping(
        {"syndicate": {"base_url": "https://x.example/", "regen_interval": 900}},
        {"SYNDICATE_WEBSUB_HUB": HUB},
    )
    ctx = FeedContext.from_settings(settings)
    assert ctx.base_url == "https://x.example"
    assert ctx.ttl_seconds == 900 and ctx.ttl_minutes == 15
    assert ctx.websub_hub == HUB
    assert ctx.feed_url("global", "rss.xml") == "https://x.example/feeds/global/rss.xml"
    assert FeedContext(base_url="b", site_title="t", ttl_seconds=5).ttl_minutes == 1


# -- RSS --------------------------------------------------------------------------------


def test_rss_channel() -> None:
    root = xml("rss")
    channel = root.find("channel")
    assert root.get("version") == "2.0" and channel is not None
    assert channel.findtext("title") == "वैश्विक"
    assert channel.findtext("description") == "दुनिया की खबरें"
    assert [e.text for e in channel.findall("link")] == [f"{BASE_URL}/sections/global"]
    atom_links = channel.findall("atom:link", NS)
    assert [(e.get("rel"), e.get("href"), e.get("type")) for e in atom_links] == [
        ("self", f"{BASE_URL}/feeds/global/rss.xml", "application/rss+xml"),
        ("hub", HUB, None),
    ]
    assert channel.findtext("language") == "hi"
    assert channel.findtext("ttl") == "5"
    assert channel.findtext("generator", "").startswith("Syndicate")
    # The newest `modified` among the items, never the clock.
    built = parsedate_to_datetime(channel.findtext("lastBuildDate", ""))
    assert built == datetime.fromisoformat("2024-05-01T12:30:00+05:30")


def test_rss_items() -> None:
    items = xml("rss").findall("channel/item")
    assert len(items) == 3
    first, second, third = items
    assert first.findtext("title") == HINDI_HEADLINE
    assert first.findtext("link") == "https://news.example/global/hi-2024-0001"
    guid = first.find("guid")
    assert guid is not None and guid.get("isPermaLink") == "false"
    assert guid.text == URN + "hi-2024-0001"
    assert first.findtext("pubDate") == "Wed, 01 May 2024 10:00:00 +0530"
    assert first.findtext("description", "").startswith("मुंबई: शेयर बाज़ार")
    assert "<b>शेयर बाज़ार</b>" in first.findtext("content:encoded", "", NS)
    assert xpath(first, "dc:creator/text()") == ["राम शर्मा", "Jane <Doe>"]
    assert first.find("author") is None  # names are not e-mails
    assert [(c.text, c.get("domain")) for c in first.findall("category")] == [
        ("global", "urn:syndicate:section"),
        ("top-story", "urn:syndicate:section"),
        ("शेयर बाज़ार", None),
        ("sensex", None),
    ]
    assert first.find("dc:language", NS) is None  # same as the feed
    assert second.findtext("dc:language", None, NS) == "en"
    assert third.findtext("dc:language", None, NS) == "ar"
    related = first.findall("atom:link", NS)
    assert [(e.get("rel"), e.get("title")) for e in related] == [("related", "ये खबर भी पढ़ें")]


def test_rss_image_media_content_and_enclosure() -> None:
    first, second, third = xml("rss").findall("channel/item")
    assert first.find("media:group", NS) is None
    media = first.find("media:content", NS)
    assert media is not None
    assert {str(k): str(v) for k, v in media.attrib.items()} == {
        "url": "https://cdn.news.example/img/bse.jpg",
        "medium": "image",
        "type": "image/jpeg",
        "width": "1200",
        "height": "800",
        "fileSize": "183245",
    }
    assert media.findtext("media:description", None, NS) == "बीएसई भवन <मुंबई>"
    assert media.findtext("media:credit", None, NS) == "एपी / AP"
    enclosure = first.find("enclosure")
    assert enclosure is not None
    assert (enclosure.get("type"), enclosure.get("length")) == ("image/jpeg", "183245")
    # Unknown length: no enclosure (RSS needs a real one), image still in media:content.
    assert second.find("enclosure") is None
    assert second.find("media:content", NS) is not None
    assert third.find("media:content", NS) is None


def test_rss_feedparser_round_trip() -> None:
    parsed = feedparser.parse(render("rss"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "वैश्विक"
    assert parsed.feed.language == "hi"
    e = parsed.entries[0]
    assert e.title == HINDI_HEADLINE
    assert e.link == "https://news.example/global/hi-2024-0001"
    assert e.id == URN + "hi-2024-0001"
    assert calendar.timegm(e.published_parsed) == utc("2024-05-01T10:00:00+05:30").timestamp()
    # <description> is HTML to RSS readers: the plain summary arrives HTML-escaped, so it
    # shows as the very text the editor wrote, "<" and all, never as markup.
    assert e.summary == html.escape(full_record()["summary"], quote=False)
    assert html.unescape(e.summary) == full_record()["summary"]
    assert e.content[0].value == full_record()["body_html"]
    assert [a.name for a in e.authors] == ["राम शर्मा", "Jane <Doe>"]
    assert [t.term for t in e.tags] == ["global", "top-story", "शेयर बाज़ार", "sensex"]
    assert [(x.href, x.type, x.length) for x in e.enclosures] == [
        ("https://cdn.news.example/img/bse.jpg", "image/jpeg", "183245")
    ]
    assert parsed.entries[1].title == TRICKY_HEADLINE
    assert parsed.entries[2].title == ARABIC_HEADLINE


# -- Atom -------------------------------------------------------------------------------


def test_atom_feed_level() -> None:
    feed = xml("atom")
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "hi"
    assert feed.findtext("a:id", None, A) == f"{BASE_URL}/feeds/global/atom.xml"
    assert feed.findtext("a:title", None, A) == "वैश्विक"
    assert feed.findtext("a:subtitle", None, A) == "दुनिया की खबरें"
    assert utc(feed.findtext("a:updated", "", A)) == utc("2024-05-01T12:30:00+05:30")
    links = [(e.get("rel"), e.get("href"), e.get("type")) for e in feed.findall("a:link", A)]
    assert links == [
        ("self", f"{BASE_URL}/feeds/global/atom.xml", "application/atom+xml"),
        ("alternate", f"{BASE_URL}/sections/global", "text/html"),
        ("hub", HUB, None),
    ]
    assert feed.findtext("a:author/a:name", None, A) == "Syndicate News"
    generator = feed.find("a:generator", A)
    assert generator is not None and generator.text == "Syndicate"


def test_atom_entries() -> None:
    entries = xml("atom").findall("a:entry", A)
    first, second, _third = entries
    assert first.findtext("a:id", None, A) == URN + "hi-2024-0001"
    assert first.findtext("a:title", None, A) == HINDI_HEADLINE
    assert first.findtext("a:published", None, A) == "2024-05-01T10:00:00+05:30"
    assert first.findtext("a:updated", None, A) == "2024-05-01T12:30:00+05:30"
    # No `updated` in the record: `updated` falls back to `published`.
    assert second.findtext("a:updated", None, A) == "2024-04-30T08:15:00-04:00"
    content = first.find("a:content", A)
    assert content is not None and content.get("type") == "html"
    assert content.text == full_record()["body_html"]
    summary = first.find("a:summary", A)
    assert summary is not None and summary.get("type") in (None, "text")
    authors = [
        (
            x.findtext("a:name", None, A),
            x.findtext("a:uri", None, A),
            x.findtext("a:email", None, A),
        )
        for x in first.findall("a:author", A)
    ]
    assert authors == [
        ("राम शर्मा", "https://news.example/authors/ram", None),
        ("Jane <Doe>", None, "jane@news.example"),
    ]
    links = [
        (e.get("rel"), e.get("href"), e.get("type"), e.get("length"))
        for e in first.findall("a:link", A)
    ]
    assert links == [
        ("alternate", "https://news.example/global/hi-2024-0001", "text/html", None),
        ("enclosure", "https://cdn.news.example/img/bse.jpg", "image/jpeg", "183245"),
        ("related", "https://news.example/global/hi-2024-0000", None, None),
    ]
    second_enclosure = second.find("a:link[@rel='enclosure']", A)
    assert second_enclosure is not None and second_enclosure.get("length") is None
    assert [c.get("term") for c in first.findall("a:category", A)] == [
        "global",
        "top-story",
        "शेयर बाज़ार",
        "sensex",
    ]
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    assert [e.get(lang) for e in entries] == [None, "en", "ar"]


def test_atom_feedparser_round_trip() -> None:
    parsed = feedparser.parse(render("atom"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "वैश्विक"
    assert parsed.feed.language == "hi"
    e = parsed.entries[0]
    assert e.title == HINDI_HEADLINE
    assert e.link == "https://news.example/global/hi-2024-0001"
    assert e.id == URN + "hi-2024-0001"
    assert calendar.timegm(e.published_parsed) == utc("2024-05-01T10:00:00+05:30").timestamp()
    assert calendar.timegm(e.updated_parsed) == utc("2024-05-01T12:30:00+05:30").timestamp()
    assert e.summary == full_record()["summary"]
    assert e.content[0].value == full_record()["body_html"]
    assert e.content[0].type == "text/html"
    assert [a.name for a in e.authors] == ["राम शर्मा", "Jane <Doe>"]
    assert e.authors[1].email == "jane@news.example"
    assert [t.term for t in e.tags] == ["global", "top-story", "शेयर बाज़ार", "sensex"]
    assert [(x.href, x.type, x.length) for x in e.enclosures] == [
        ("https://cdn.news.example/img/bse.jpg", "image/jpeg", "183245")
    ]
    assert [x.href for x in e.links if x.rel == "related"] == [
        "https://news.example/global/hi-2024-0000"
    ]
    assert parsed.entries[1].title == TRICKY_HEADLINE
    assert parsed.entries[2].content[0].language == "ar"


# -- JSON Feed --------------------------------------------------------------------------


def test_json_feed_1_1() -> None:
    feed = json.loads(render("json"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "वैश्विक"
    assert feed["home_page_url"] == f"{BASE_URL}/sections/global"
    assert feed["feed_url"] == f"{BASE_URL}/feeds/global/feed.json"
    assert feed["language"] == "hi"
    assert feed["hubs"] == [{"type": "WebSub", "url": HUB}]
    first, second, third = feed["items"]
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["id"].startswith(URN)
        assert "author" not in item
        for key in ("date_published", "date_modified"):
            assert datetime.fromisoformat(item[key]).tzinfo is not None
    assert first["title"] == HINDI_HEADLINE
    assert first["url"] == "https://news.example/global/hi-2024-0001"
    assert first["content_html"] == full_record()["body_html"]
    assert first["summary"] == full_record()["summary"]
    assert first["date_published"] == "2024-05-01T10:00:00+05:30"
    assert first["date_modified"] == "2024-05-01T12:30:00+05:30"
    assert first["authors"] == [
        {"name": "राम शर्मा", "url": "https://news.example/authors/ram"},
        {"name": "Jane <Doe>"},
    ]
    assert first["tags"] == ["global", "top-story", "शेयर बाज़ार", "sensex"]
    assert first["image"] == "https://cdn.news.example/img/bse.jpg"
    assert first["_syndicate"]["related"] == [
        {"url": "https://news.example/global/hi-2024-0000", "title": "ये खबर भी पढ़ें"}
    ]
    assert first["_syndicate"]["image"]["caption"] == "बीएसई भवन <मुंबई>"
    assert "language" not in first
    assert (second["title"], second["language"]) == (TRICKY_HEADLINE, "en")
    assert third["language"] == "ar"


def test_json_feed_is_raw_utf8() -> None:
    data = render("json")
    assert HINDI_HEADLINE.encode() in data and "📈".encode() in data
    assert b"\\u" not in data


# -- text, framing, determinism ---------------------------------------------------------


@pytest.mark.parametrize("name", ["rss", "atom"])
def test_xml_text_is_escaped_once_and_raw_utf8(name: str) -> None:
    data = render(name)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert b'<?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>' in data
    assert b"Sensex &lt; 70,000 &amp; Nifty" in data
    # Never escaped twice, except RSS <description>: HTML by the spec, so plain text is
    # escaped as HTML first (checked in the round trip).
    titles = b"".join(etree.tostring(t) for t in etree.fromstring(data).iter("{*}title", "title"))
    assert b"&amp;lt;" not in titles
    assert HINDI_HEADLINE.encode() in data and ARABIC_HEADLINE.encode() in data
    assert "📈".encode() in data
    assert b"&#" not in data


def test_no_stylesheet_when_disabled() -> None:
    assert b"xml-stylesheet" not in render("rss", stylesheet=None)


@pytest.mark.parametrize("name", list(FORMATS))
def test_rendering_is_deterministic(name: str) -> None:
    first = render(name)
    assert render(name) == first
    # Same content from records with another key order and fresh objects: same bytes.
    shuffled = [
        Article.from_record(dict(reversed(list(copy.deepcopy(a.record).items()))))
        for a in articles()
    ]
    assert render(name, shuffled) == first


@pytest.mark.parametrize("name", ["rss", "atom"])
def test_rendering_never_switches_the_process_locale(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: Any) -> str:
        raise AssertionError("setlocale called while rendering")

    monkeypatch.setattr(locale, "setlocale", forbidden)
    assert render(name)


@pytest.mark.parametrize("name", list(FORMATS))
def test_empty_feed_is_dated_at_the_epoch(name: str) -> None:
    data = render(name, [])
    if name == "rss":
        assert etree.fromstring(data).findtext("channel/lastBuildDate") == (
            "Thu, 01 Jan 1970 00:00:00 +0000"
        )
        assert not feedparser.parse(data).bozo
    elif name == "atom":
        updated = etree.fromstring(data).findtext("a:updated", None, A)
        assert updated is not None and utc(updated) == datetime(1970, 1, 1, tzinfo=UTC)
    else:
        assert json.loads(data)["items"] == []


# -- limits -----------------------------------------------------------------------------


def _ids(name: str, data: bytes) -> list[str]:
    if name == "json":
        return [i["id"] for i in json.loads(data)["items"]]
    parsed = feedparser.parse(data)
    return [e.id for e in parsed.entries]


@pytest.mark.parametrize("name", list(FORMATS))
def test_item_limit_keeps_the_newest(name: str) -> None:
    items = numbered_articles(12, body_bytes=200)
    data = render_feed(name, context(), hindi_section(limit=5), items)
    assert _ids(name, data) == [URN + f"n-{i:04d}" for i in range(5)]


@pytest.mark.parametrize("name", list(FORMATS))
def test_byte_limit_drops_the_oldest_until_it_fits(name: str) -> None:
    items = numbered_articles(20, body_bytes=4000)
    whole = render_feed(name, context(), hindi_section(), items)
    cap = len(whole) // 2
    data = render_feed(name, context(), hindi_section(max_bytes=cap), items)
    assert len(data) <= cap
    kept = _ids(name, data)
    assert 0 < len(kept) < 20
    assert kept == [URN + f"n-{i:04d}" for i in range(len(kept))]
    # One more item would not have fitted.
    bigger = FORMATS[name].render(context(), hindi_section(), items[: len(kept) + 1])
    assert len(bigger) > cap


def test_byte_limit_smaller_than_any_item_gives_an_empty_feed() -> None:
    data = render_feed("rss", context(), hindi_section(max_bytes=10), articles())
    assert etree.fromstring(data).findall("channel/item") == []


def test_withdrawn_articles_are_left_out() -> None:
    items = articles()
    items[1] = Article.from_record(items[1].record, status=WITHDRAWN)
    data = fit(FORMATS["json"].render, context(), hindi_section(), items)
    assert _ids("json", data) == [URN + "hi-2024-0001", URN + "ar-2024-0003"]


# -- the W3C validator's rules that matter ----------------------------------------------


def test_rss_passes_validator_rules() -> None:
    assert rss_problems(render("rss")) == []
    assert rss_problems(render("rss", [])) == []
    assert rss_problems(render("rss", websub_hub=None)) == []


def test_atom_passes_validator_rules() -> None:
    assert atom_problems(render("atom")) == []
    assert atom_problems(render("atom", [])) == []


# -- OPML and the stylesheet ------------------------------------------------------------


def test_opml_lists_one_rss_feed_per_declared_section() -> None:
    settings = settings_from_mapping(
        {
            "syndicate": {"base_url": BASE_URL},
            "sections": {
                "global": {"title": {"en": "Global", "hi": "वैश्विक"}, "language": "hi"},
                "sport": {"title": "Sport"},
            },
        }
    )
    data = render_opml(FeedContext.from_settings(settings), feed_sections(settings))
    root = etree.fromstring(data)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert root.get("version") == "2.0" and root.findtext("head/title")
    outlines = root.findall("body/outline")
    # `all` is left out: importing it beside the sections would show every story twice.
    assert [f.get("text") for f in outlines] == ["वैश्विक", "Sport"]
    assert [f.get("xmlUrl") for f in outlines] == [
        f"{BASE_URL}/feeds/global/rss.xml",
        f"{BASE_URL}/feeds/sport/rss.xml",
    ]
    assert [(f.get("type"), f.get("version")) for f in outlines] == [("rss", "RSS2")] * 2
    assert [f.get("htmlUrl") for f in outlines] == [
        f"{BASE_URL}/sections/global",
        f"{BASE_URL}/sections/sport",
    ]
    assert [f.get("language") for f in outlines] == ["hi", "en"]


@pytest.mark.parametrize("name", ["rss", "atom"])
def test_stylesheet_turns_a_feed_into_a_page(name: str) -> None:
    xsl_path = ROOT / "syndicate" / "web" / "static" / "feed.xsl"
    transform = etree.XSLT(etree.parse(str(xsl_path)))
    page = str(transform(etree.fromstring(render(name)).getroottree()))
    assert "वैश्विक" in page and "https://news.example/global/hi-2024-0001" in page


def test_all_section_feed_renders() -> None:
    section: Section = settings_from_mapping({}).all_section()
    data = render_feed("atom", context(), section, articles())
    assert etree.fromstring(data).findtext("a:id", None, A) == f"{BASE_URL}/feeds/all/atom.xml"
