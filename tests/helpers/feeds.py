"""Input for the reader-feed renderers: a context, a Hindi section, and articles in Hindi,
English (markup-like text) and Arabic, as the store hands them to renderers."""

from __future__ import annotations

from typing import Any

from syndicate.core.config import Section
from syndicate.core.model import Article
from syndicate.render import FeedContext
from tests.helpers.settings import BASE_URL
from tests.helpers.texts import (
    ARABIC_BODY,
    ARABIC_HEADLINE,
    HINDI_BODY,
    HINDI_HEADLINE,
    HINDI_SUMMARY,
    TRICKY_HEADLINE,
)

HUB = "https://hub.example/"


def context(**changes: Any) -> FeedContext:
    values: dict[str, Any] = {
        "base_url": BASE_URL,
        "site_title": "Syndicate News",
        "websub_hub": HUB,
        "ttl_seconds": 300,
    }
    values.update(changes)
    return FeedContext(**values)


def hindi_section(**changes: Any) -> Section:
    values: dict[str, Any] = {
        "slug": "global",
        "title": {"en": "Global", "hi": "वैश्विक"},
        "description": {"en": "World news", "hi": "दुनिया की खबरें"},
        "language": "hi",
        "limit": 50,
    }
    values.update(changes)
    return Section(**values)


def full_record() -> dict[str, Any]:
    """A Hindi article using every field a feed carries."""
    return {
        "id": "hi-2024-0001",
        "headline": HINDI_HEADLINE,
        "summary": f"{HINDI_SUMMARY} Sensex < 70,000 & rising 🚀",
        "body_html": HINDI_BODY
        + '<p><a href="https://news.example/markets">बाज़ार</a> &amp; more</p>',
        "language": "hi",
        "sections": ["global", "top-story"],
        "authors": [
            {"name": "राम शर्मा", "url": "https://news.example/authors/ram"},
            {"name": "Jane <Doe>", "email": "jane@news.example"},
        ],
        "published": "2024-05-01T10:00:00+05:30",
        "updated": "2024-05-01T12:30:00+05:30",
        "canonical_url": "https://news.example/global/hi-2024-0001",
        "image": {
            "url": "https://cdn.news.example/img/bse.jpg",
            "caption": "बीएसई भवन <मुंबई>",
            "credit": "एपी / AP",
            "width": 1200,
            "height": 800,
            "mime_type": "image/jpeg",
            "length": 183_245,
        },
        "tags": ["शेयर बाज़ार", "sensex"],
        "related": [
            {"url": "https://news.example/global/hi-2024-0000", "title": "ये खबर भी पढ़ें"},
        ],
    }


def tricky_record() -> dict[str, Any]:
    """English article: markup-like text in the headline, image without a known length."""
    return {
        "id": "en-2024-0002",
        "headline": TRICKY_HEADLINE,
        "summary": "Plain text with <b>not bold</b> & an ampersand.",
        "body_html": "<p>Markets rose &amp; fell. 👍</p>",
        "language": "en",
        "sections": ["global"],
        "authors": [{"name": "Jane Doe"}],
        "published": "2024-04-30T08:15:00-04:00",
        "canonical_url": "https://news.example/global/en-2024-0002",
        "image": {"url": "https://cdn.news.example/img/x.png", "mime_type": "image/png"},
    }


def arabic_record() -> dict[str, Any]:
    return {
        "id": "ar-2024-0003",
        "headline": ARABIC_HEADLINE,
        "body_html": ARABIC_BODY,
        "language": "ar",
        "sections": ["global"],
        "published": "2024-04-29T09:00:00+03:00",
        "canonical_url": "https://news.example/global/ar-2024-0003",
    }


def articles() -> list[Article]:
    """Three articles, newest first, as the store hands them to renderers."""
    return [Article.from_record(r) for r in (full_record(), tricky_record(), arabic_record())]


def numbered_articles(count: int, body_bytes: int = 4000) -> list[Article]:
    """`count` Hindi articles, newest first, bodies of roughly `body_bytes` bytes."""
    sentence = "<p>भारत की अर्थव्यवस्था तेज़ी से बढ़ रही है और बाज़ार में उत्साह है।</p>"
    body = sentence * max(1, body_bytes // len(sentence.encode()))
    out = []
    for i in range(count):
        day, hour = divmod(count - i, 24)
        out.append(
            Article.from_record(
                {
                    "id": f"n-{i:04d}",
                    "headline": f"खबर {i}: {HINDI_HEADLINE}",
                    "summary": "सारांश " * 20,
                    "body_html": body,
                    "language": "hi",
                    "sections": ["global"],
                    "authors": [{"name": "राम शर्मा"}],
                    "published": f"2024-03-{1 + day:02d}T{hour:02d}:00:00+05:30",
                    "canonical_url": f"{BASE_URL}/global/n-{i:04d}",
                    "tags": ["बाज़ार"],
                }
            )
        )
    return out
