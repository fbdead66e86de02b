"""The feeds' items are written as bytes, not trees: the very bytes lxml and the standard
library's json wrote for them before, over generated articles (hypothesis), refusals included.

Held to: lxml's serialiser for escaping text and attributes, the tree-built RSS and Atom items
(`tests/helpers/tree_feeds.py`), `json.dumps` for JSON Feed items, and
`email.utils.format_datetime` for RSS dates.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate.core.model import Article, Author, Image, RelatedLink
from syndicate.render import FORMATS
from syndicate.render.context import rfc822
from syndicate.render.jsonfeed import _item as json_item_value
from syndicate.render.xmltext import attr, text
from tests.helpers.tree_feeds import atom_entry, rss_item

# What has broken XML before, and what XML cannot carry at all (lxml refuses those).
SPECIAL = [
    *"<>&\"'\r\n\t\x00\x01\x1f\x7f\u0085\u2028\u200f\ufffe\uffff\ud800😀]",
    "]]>",
    "&amp;",
    "हिन्दी",
    "العربية",
]
TEXT = st.lists(
    st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(SPECIAL)), max_size=12
).map("".join)
SOME = st.none() | TEXT
ZONES = st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-12 * 60, 14 * 60))
DATES = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=ZONES
)
COUNTS = st.none() | st.integers(0, 10**10)
ARTICLES = st.builds(
    Article,
    id=st.sampled_from(["a1", "hi-2024-0001"]),
    headline=TEXT,
    body_html=TEXT,
    language=st.sampled_from(["hi", "en", "ar"]),
    sections=st.lists(st.sampled_from(["global", "top-story", "खेल"]), min_size=1).map(tuple),
    published=DATES,
    canonical_url=st.sampled_from(["https://news.example/a/1"]) | TEXT,
    summary=SOME,
    authors=st.lists(st.builds(Author, TEXT, SOME, SOME), max_size=2).map(tuple),
    updated=st.none() | DATES,
    image=st.none()
    | st.builds(
        Image,
        url=TEXT,
        caption=SOME,
        credit=SOME,
        width=COUNTS,
        height=COUNTS,
        mime_type=SOME,
        length=COUNTS,
    ),
    tags=st.lists(TEXT, max_size=3).map(tuple),
    related=st.lists(st.builds(RelatedLink, SOME, SOME), max_size=2).map(tuple),
    guid=st.none() | st.sampled_from(["https://news.example/a/1", "123 at https://x"]) | TEXT,
)
LANGUAGES = st.sampled_from(["hi", "en", "ar"])
RUNS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _outcome(make: Any, *args: Any) -> bytes | str:
    """What `make` gives, or that it refused (its error's kind: lxml and we both say why)."""
    try:
        return make(*args)  # type: ignore[no-any-return]
    except ValueError:  # UnicodeEncodeError (a lone surrogate) is one too
        return "refused"


def _lxml_text(value: str) -> bytes:
    element = etree.Element("t")
    element.text = value
    return etree.tostring(element, encoding="UTF-8")[len(b"<t>") : -len(b"</t>")]


def _lxml_attr(value: str) -> bytes:
    element = etree.Element("t", a=value)
    return etree.tostring(element, encoding="UTF-8")[len(b'<t a="') : -len(b'"/>')]


@settings(max_examples=2000, deadline=None)
@given(value=TEXT)
def test_text_and_attributes_are_escaped_as_lxml_escapes_them(value: str) -> None:
    assert _outcome(text, value) == _outcome(_lxml_text, value)
    assert _outcome(attr, value) == _outcome(_lxml_attr, value)


@RUNS
@given(article=ARTICLES, language=LANGUAGES)
def test_rss_and_atom_items_are_the_bytes_of_their_trees(article: Article, language: str) -> None:
    assert _outcome(FORMATS["rss"].item, article, language) == _outcome(rss_item, article, language)
    assert _outcome(FORMATS["atom"].item, article, language) == _outcome(
        atom_entry, article, language
    )


def _stdlib_json_item(article: Article, language: str) -> bytes:
    value = json_item_value(article, language)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@RUNS
@given(article=ARTICLES, language=LANGUAGES)
def test_json_feed_items_are_the_bytes_json_dumps_wrote(article: Article, language: str) -> None:
    try:
        expected: bytes | None = _stdlib_json_item(article, language)
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for it
        expected = None
    if expected is None:
        try:
            FORMATS["json"].item(article, language)
        except (TypeError, ValueError):  # orjson says TypeError
            return
        raise AssertionError("a lone surrogate was written")
    assert FORMATS["json"].item(article, language) == expected


@settings(max_examples=3000, deadline=None)
@given(
    value=st.datetimes(
        timezones=st.none()
        | ZONES
        | st.builds(lambda s: timezone(timedelta(seconds=s)), st.integers(-86399, 86399))
    )
)
def test_rss_dates_are_what_email_utils_writes(value: datetime) -> None:
    assert rfc822(value) == format_datetime(value)


def test_a_refused_string_is_named_as_lxml_names_it() -> None:
    article = Article(
        id="bell",
        headline="bell\x07",
        body_html="<p>x</p>",
        language="en",
        sections=("global",),
        published=datetime(2024, 5, 1, tzinfo=UTC),
        canonical_url="https://news.example/bell",
    )
    for name in ("rss", "atom"):
        try:
            FORMATS[name].item(article, "en")
        except ValueError as exc:
            assert "XML compatible" in str(exc)
        else:
            raise AssertionError(f"{name} wrote a control character")
