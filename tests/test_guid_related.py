"""The record's optional `guid` and title-only `related` items: validation and every renderer.

A `guid` is the identity readers already hold: the RSS guid (a permalink only when it is the
canonical URL), the Atom id when it is an IRI, the JSON Feed id. A related story named
without a link gets no link element anywhere, and partner output still validates.
"""

from __future__ import annotations

import json
from typing import Any

import feedparser
import pytest
from lxml import etree

from syndicate.core.config import Settings
from syndicate.core.model import Article
from syndicate.render import FORMATS, render_feed
from syndicate.render.fragments import FragmentCache, assemble
from syndicate.render.newsml import render_news_item
from syndicate.render.ninjs import render_ninjs_item
from syndicate.validate import check_record
from tests.helpers.feeds import context, full_record, hindi_section
from tests.helpers.iptc import newsml_errors, ninjs_errors
from tests.helpers.partner_articles import CTX

ATOM = "{http://www.w3.org/2005/Atom}"
TITLE_ONLY = "अयोध्या के राम मंदिर परिसर में हुई फायरिंग"
LINKED = {"url": "https://news.example/global/hi-2024-0000", "title": "ये खबर भी पढ़ें"}


def _record(**changes: Any) -> dict[str, Any]:
    out = full_record()
    out.update(changes)
    return out


def _article(settings: Settings, **changes: Any) -> Article:
    record, errors = check_record(_record(**changes), settings)
    assert record is not None, errors
    return Article.from_record(record)


def _errors(settings: Settings, **changes: Any) -> dict[str, str]:
    record, errors = check_record(_record(**changes), settings)
    assert record is None
    return {e.path: e.message for e in errors}


# -- validation -----------------------------------------------------------------------------
def test_a_guid_of_any_text_up_to_512_characters_is_kept(settings: Settings) -> None:
    for guid in ("123 at https://old.example", "x" * 512, "urn:uuid:1", "पुराना-42"):
        assert _article(settings, guid=guid).guid == guid


@pytest.mark.parametrize(
    ("guid", "words"),
    [
        ("x" * 513, "at most 512"),
        ("", "must not be empty"),
        ("   ", "must not be blank"),
        ("two\nlines", "line break"),
        (" padded", "whitespace"),
        ("bell\x07", "XML 1.0 cannot carry"),
        (42, "must be a string"),
    ],
)
def test_a_bad_guid_is_rejected_naming_the_field(settings: Settings, guid: Any, words: str) -> None:
    errors = _errors(settings, guid=guid)
    assert list(errors) == ["/guid"]
    assert words in errors["/guid"]


def test_a_related_story_may_have_a_title_without_a_url(settings: Settings) -> None:
    article = _article(settings, related=[{"title": TITLE_ONLY}, LINKED])
    assert [(r.url, r.title) for r in article.related] == [
        (None, TITLE_ONLY),
        (LINKED["url"], LINKED["title"]),
    ]


@pytest.mark.parametrize("item", [{}, {"title": ""}, {"title": "  "}])
def test_a_related_story_needs_a_url_or_a_title(settings: Settings, item: Any) -> None:
    errors = _errors(settings, related=[LINKED, item])
    assert list(errors) == ["/related/1"]
    assert "needs a url, or a non-blank title" in errors["/related/1"]


# -- reader feeds ---------------------------------------------------------------------------
def _feeds(*articles: Article) -> dict[str, bytes]:
    ctx, section = context(), hindi_section()
    return {name: render_feed(name, ctx, section, list(articles)) for name in FORMATS}


def test_guid_is_the_rss_guid_atom_id_and_json_feed_id(settings: Settings) -> None:
    guid = "https://old.example/?p=42"
    feeds = _feeds(_article(settings, guid=guid))
    rss = etree.fromstring(feeds["rss"]).find("channel/item/guid")
    assert rss is not None and rss.text == guid
    assert rss.get("isPermaLink") == "false"  # not the canonical URL: not a link to open
    assert feedparser.parse(feeds["rss"]).entries[0].id == guid
    assert feedparser.parse(feeds["atom"]).entries[0].id == guid
    assert json.loads(feeds["json"])["items"][0]["id"] == guid


def test_the_rss_guid_is_a_permalink_only_when_it_is_the_canonical_url(
    settings: Settings,
) -> None:
    url = full_record()["canonical_url"]
    feeds = _feeds(_article(settings, guid=url))
    rss = etree.fromstring(feeds["rss"]).find("channel/item/guid")
    assert rss is not None and (rss.text, rss.get("isPermaLink")) == (url, "true")


def test_a_guid_that_is_no_iri_keeps_our_urn_as_the_atom_id(settings: Settings) -> None:
    guid = "123 at https://old.example"
    feeds = _feeds(_article(settings, guid=guid))
    atom_ids = [e.text for e in etree.fromstring(feeds["atom"]).iter(f"{ATOM}id")]
    assert "urn:syndicate:article:hi-2024-0001" in atom_ids and guid not in atom_ids
    assert feedparser.parse(feeds["rss"]).entries[0].id == guid
    assert json.loads(feeds["json"])["items"][0]["id"] == guid


def test_without_a_guid_the_ids_stay_our_urn(settings: Settings) -> None:
    feeds = _feeds(_article(settings))
    urn = "urn:syndicate:article:hi-2024-0001"
    for name in ("rss", "atom"):
        assert feedparser.parse(feeds[name]).entries[0].id == urn
    assert json.loads(feeds["json"])["items"][0]["id"] == urn


def test_a_title_only_related_story_gets_no_link_in_any_reader_feed(settings: Settings) -> None:
    feeds = _feeds(_article(settings, related=[{"title": TITLE_ONLY}, LINKED]))
    for name in ("rss", "atom"):
        links = [
            (link.get("href"), link.get("title"))
            for link in etree.fromstring(feeds[name]).iter(f"{ATOM}link", "link")
            if link.get("rel") == "related"
        ]
        assert links == [(LINKED["url"], LINKED["title"])], name
        assert TITLE_ONLY.encode() not in feeds[name], name
    item = json.loads(feeds["json"])["items"][0]
    assert item["_syndicate"]["related"] == [{"title": TITLE_ONLY}, LINKED]


def test_the_guid_is_part_of_the_cached_fragment_key(settings: Settings) -> None:
    """Two articles equal but for the guid must not share a cached item."""
    ctx, section = context(), hindi_section()
    cache = FragmentCache()
    first = _article(settings, guid="https://old.example/a")
    second = _article(settings, guid="https://old.example/b")
    for name, fmt in FORMATS.items():
        for article in (first, second, first):
            cached = assemble(fmt, ctx, section, [article], cache)
            assert cached == fmt.render(ctx, section, [article]), name
            assert article.guid is not None and article.guid.encode() in cached


# -- partner formats ------------------------------------------------------------------------
def test_partner_output_with_title_only_related_validates(settings: Settings) -> None:
    article = _article(settings, related=[{"title": TITLE_ONLY}, LINKED], guid="x y")
    xml = render_news_item(CTX, article, embargoed_view=False)
    assert newsml_errors(xml) == []
    links = etree.fromstring(xml).iter("{http://iptc.org/std/nar/2006-10-01/}link")
    assert [link.get("href") for link in links] == [LINKED["url"]]
    item = render_ninjs_item(CTX, article)
    assert ninjs_errors(item) == []
    stories = [a for a in item["associations"] if a["type"] == "text"]
    assert [(s["name"], s["uri"]) for s in stories] == [("related1", LINKED["url"])]
