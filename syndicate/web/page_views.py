"""What the readers' pages show, as plain values for the templates: no aiohttp, no store.

A section's page is made from its JSON Feed as served (so it shows exactly what the feeds
show, never more); dates are written in the reader's language by Babel (CLDR data).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import lxml.html
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from lxml.etree import ParserError

from syndicate.web.templating import direction

# The few words of the pages' own furniture, in the languages the newsroom writes in; any
# other language gets English, marked as such (`lang="en"`), so screen readers say it right.
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "latest": "Latest stories",
        "subscribe": "Subscribe",
        "subscribe_hint": "Copy one of these links into your feed reader:",
        "sections": "Sections",
        "all_feeds": "Every section's feed, for a reader (OPML)",
        "more": "More from",
        "by": "By",
        "updated": "Updated",
        "original": "Originally published at",
        "related": "Related",
        "tags": "Tags",
        "empty": "No stories yet.",
        "home": "Home",
        "in_sections": "In",
    },
    "hi": {
        "latest": "ताज़ा खबरें",
        "subscribe": "सदस्यता लें",
        "subscribe_hint": "इनमें से कोई लिंक कॉपी करके अपने फ़ीड रीडर में डालें:",
        "sections": "खंड",
        "all_feeds": "सभी खंडों की फ़ीड, रीडर के लिए (OPML)",
        "more": "और खबरें:",
        "by": "लेखक:",
        "updated": "अपडेट:",
        "original": "मूल रूप से प्रकाशित:",
        "related": "संबंधित खबरें",
        "tags": "टैग",
        "empty": "अभी कोई खबर नहीं।",
        "home": "मुखपृष्ठ",
        "in_sections": "खंड:",
    },
    "ar": {
        "latest": "آخر الأخبار",
        "subscribe": "اشترك",
        "subscribe_hint": "انسخ أحد هذه الروابط إلى قارئ الخلاصات:",
        "sections": "الأقسام",
        "all_feeds": "خلاصات كل الأقسام لقارئ الخلاصات (OPML)",
        "more": "المزيد من",
        "by": "بقلم",
        "updated": "تحديث:",
        "original": "نُشر أصلًا في",
        "related": "ذو صلة",
        "tags": "وسوم",
        "empty": "لا أخبار بعد.",
        "home": "الرئيسية",
        "in_sections": "في",
    },
}

EXCERPT_CHARS = 240
_BLOCKS = ("p", "div", "li", "br", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr")


@dataclass(frozen=True, slots=True)
class Words:
    """The furniture's words for a page, and the language they are in."""

    lang: str
    text: dict[str, str]

    @property
    def dir(self) -> str:
        return direction(self.lang)


def words(language: str) -> Words:
    primary = language.split("-", 1)[0].lower()
    if primary in _WORDS:
        return Words(primary, _WORDS[primary])
    return Words("en", _WORDS["en"])


@functools.lru_cache(maxsize=64)
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language, sep="-")
    except (UnknownLocaleError, ValueError):
        try:
            return Locale.parse(language.split("-", 1)[0])
        except (UnknownLocaleError, ValueError):
            return Locale.parse("en")


def when(value: datetime, language: str) -> str:
    """A date and time as people write them in `language`, in the article's own offset."""
    locale = _locale(language)
    day = format_date(value, "long", locale=locale)
    hour = format_time(value, "short", tzinfo=value.tzinfo, locale=locale)
    return f"{day} · {hour}"


def excerpt(body_html: str, limit: int = EXCERPT_CHARS) -> str:
    """The opening words of an HTML body as plain text, cut at a word, for a list of stories."""
    try:
        root = lxml.html.fragment_fromstring(body_html, create_parent="div")
    except (ParserError, ValueError):
        return ""
    # Paragraphs end in a space, so "…middle.</p><p>Work…" does not read "middle.Work".
    for element in root.iter(*_BLOCKS):
        element.tail = " " + (element.tail or "")
    text = " ".join(root.text_content().split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:—-") + "…"


@dataclass(frozen=True, slots=True)
class Story:
    """One item of a section's page: a headline to follow, when, by whom, what it is about."""

    title: str
    url: str
    summary: str
    published: datetime
    published_text: str
    lang: str
    dir: str
    authors: tuple[str, ...]


def stories(feed_json: bytes, limit: int | None = None) -> list[Story]:
    """The items of a JSON Feed document we rendered, as stories, newest first."""
    feed: dict[str, Any] = json.loads(feed_json)
    feed_language = str(feed.get("language") or "en")
    found: list[Story] = []
    for item in feed.get("items", [])[:limit]:
        lang = str(item.get("language") or feed_language)
        published = datetime.fromisoformat(item["date_published"])
        summary = item.get("summary") or excerpt(item.get("content_html", ""))
        found.append(
            Story(
                title=item["title"],
                url=item["url"],
                summary=summary,
                published=published,
                published_text=when(published, lang),
                lang=lang,
                dir=direction(lang),
                authors=tuple(a["name"] for a in item.get("authors", ()) if a.get("name")),
            )
        )
    return found
