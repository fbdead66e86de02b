"""For any record the schema accepts, every renderer's output parses, validates and carries the
headline, summary and author names exactly; for any it rejects, nothing is stored (hypothesis).

Text is drawn from every script and the characters that have broken XML and JSON before
(markup, entities, quotes, bidi marks, emoji, astral planes). NewsML-G2 is checked against the
IPTC 2.35 XSD and ninjs against its 2.2 JSON Schema (from `../shared/conformance`).
"""

from __future__ import annotations

import asyncio
import html
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate.core.errors import InvalidArticle
from syndicate.core.model import Article
from syndicate.pipeline.ingest import Parsed, ingest
from syndicate.render import FeedContext, render_feed
from syndicate.render.newsml import render_news_item
from syndicate.render.ninjs import render_ninjs_item
from syndicate.store.sqlite import SQLiteStore
from syndicate.validate import check_record, validate_record
from tests.helpers.feeds import context, hindi_section
from tests.helpers.iptc import newsml_errors, ninjs_errors, require_conformance
from tests.helpers.partner_articles import CTX
from tests.helpers.paths import NEWSML_XSD, NINJS_SCHEMA
from tests.helpers.settings import build_settings

SETTINGS = build_settings()
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "dc": "http://purl.org/dc/elements/1.1/",
    "g": "http://iptc.org/std/nar/2006-10-01/",
}
TRICKY = list("<>&\"' \u200f\u200e\u00a0\u0301😀𝔘")
PIECES = ["&amp;", "]]>", "<b>", "हिन्दी", "العربية", "  "]
TEXT = st.lists(
    st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn")),
        st.sampled_from(TRICKY),
        st.sampled_from(PIECES),
    ),
    min_size=1,
    max_size=30,
).map("".join)
RUNS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _record(headline: str, summary: str, names: list[str]) -> dict[str, Any]:
    return {
        "id": "prop-1",
        "headline": headline,
        "summary": summary,
        "body_html": "<p>body</p>",
        "language": "hi",
        "sections": ["global"],
        "authors": [{"name": n} for n in names],
        "published": "2024-05-01T10:00:00+05:30",
        "canonical_url": "https://news.example/global/prop-1",
    }


def _feeds(article: Article, ctx: FeedContext) -> dict[str, bytes]:
    return {
        name: render_feed(name, ctx, hindi_section(), [article]) for name in ("rss", "atom", "json")
    }


@RUNS
@given(headline=TEXT, summary=TEXT, names=st.lists(TEXT, min_size=1, max_size=3, unique=True))
def test_every_renderer_carries_any_accepted_text_exactly(
    headline: str, summary: str, names: list[str]
) -> None:
    require_conformance(NEWSML_XSD)
    require_conformance(NINJS_SCHEMA)
    stored, errors = check_record(_record(headline, summary, names), SETTINGS)
    assume(stored is not None)
    assert stored is not None and not errors
    article = Article.from_record(stored)
    # The record keeps the text as sent, and every output says it byte for byte.
    assert (article.headline, article.summary) == (headline, summary)
    assert [a.name for a in article.authors] == names
    feeds = _feeds(article, context())

    rss = etree.fromstring(feeds["rss"])
    (item,) = rss.findall("channel/item")
    assert item.findtext("title") == headline
    # RSS readers read <description> as HTML: the plain text is in it HTML-escaped.
    assert html.unescape(item.findtext("description") or "") == summary
    assert [e.text for e in item.findall("dc:creator", NS)] == names

    atom = etree.fromstring(feeds["atom"])
    (entry,) = atom.findall("atom:entry", NS)
    assert entry.findtext("atom:title", namespaces=NS) == headline
    assert entry.findtext("atom:summary", namespaces=NS) == summary
    assert [e.text for e in entry.findall("atom:author/atom:name", NS)] == names

    feed = json.loads(feeds["json"])
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    (entry_json,) = feed["items"]
    assert isinstance(entry_json["id"], str) and entry_json["id"]
    assert "content_html" in entry_json or "content_text" in entry_json
    assert (entry_json["title"], entry_json["summary"]) == (headline, summary)
    assert [a["name"] for a in entry_json["authors"]] == names

    newsml = render_news_item(CTX, article, embargoed_view=False)
    assert newsml_errors(newsml) == []
    root = etree.fromstring(newsml)
    assert root.findtext("g:contentMeta/g:headline", namespaces=NS) == headline
    assert root.findtext("g:contentMeta/g:description", namespaces=NS) == summary
    assert [e.text for e in root.findall("g:contentMeta/g:creator/g:name", NS)] == names

    ninjs = render_ninjs_item(CTX, article)
    assert ninjs_errors(ninjs) == []
    again = json.loads(json.dumps(ninjs, ensure_ascii=False))
    assert again["headlines"][0]["value"] == headline
    assert again["descriptions"][0]["value"] == summary


@RUNS
@given(
    field=st.sampled_from(["headline", "summary", "language", "published", "canonical_url"]),
    value=st.one_of(TEXT, st.just(""), st.integers(), st.none()),
)
def test_a_rejected_record_stores_nothing(field: str, value: Any, tmp_path_factory: Any) -> None:
    raw = {**_record("Headline", "Summary", ["Name"]), field: value}
    stored, errors = check_record(raw, SETTINGS)
    assume(stored is None)
    assert errors and all(e.path.startswith("/") or e.path == "" for e in errors)
    with pytest.raises(InvalidArticle):
        validate_record(raw, SETTINGS)
    path: Path = tmp_path_factory.mktemp("rejected") / "s.db"

    async def nothing_stored() -> None:
        store = SQLiteStore(f"sqlite:///{path}")
        await store.open()
        try:
            results = await ingest([Parsed(1, raw)], SETTINGS, store, source="property")
            assert [r.outcome for r in results] == ["rejected"]
            assert await store.get("prop-1") is None and await store.max_seq() == 0
        finally:
            await store.close()

    asyncio.run(nothing_stored())
