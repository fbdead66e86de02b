"""JSON Feed 1.1 for one section, written directly with orjson (no feedgen).

An item is a function of its article and the feed's language only: each is dumped on its
own, and the document is the feed object with the items between its `"items":[` and `]}`
(a compact JSON list is its elements joined by commas).

Image details and related links that JSON Feed has no field for go in a `_syndicate`
extension object, which readers that do not know it ignore (JSON Feed 1.1, "Extensions").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from syndicate.core.config import Section
from syndicate.core.model import Article
from syndicate.render.context import (
    FeedContext,
    feed_title,
    json_feed_id,
    rfc3339,
)
from syndicate.render.documents import archive_links, archive_url, current_url, home_url, hub_url

FILENAME = "feed.json"
SEPARATOR = b","
MEDIA_TYPE = "application/feed+json; charset=utf-8"
VERSION = "https://jsonfeed.org/version/1.1"


def item(article: Article, feed_language: str) -> bytes:
    """One item object, as the document carries it."""
    return _dumps(_item(article, feed_language))


def _dumps(value: dict[str, Any]) -> bytes:
    # What `json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()` writes, byte
    # for byte (a test holds the two together), at a fraction of its cost.
    return orjson.dumps(value)


def _item(article: Article, feed_language: str) -> dict[str, Any]:
    a = article
    item: dict[str, Any] = {
        "id": json_feed_id(a),
        "url": a.canonical_url,
        "title": a.headline,
        "content_html": a.body_html,
    }
    if a.summary:
        item["summary"] = a.summary
    if a.image is not None:
        item["image"] = a.image.url
    item["date_published"] = rfc3339(a.published)
    item["date_modified"] = rfc3339(a.modified)
    if a.authors:
        item["authors"] = [
            {"name": au.name, **({"url": au.url} if au.url else {})} for au in a.authors
        ]
    tags = list(dict.fromkeys((*a.sections, *a.tags)))
    if tags:
        item["tags"] = tags
    if a.language != feed_language:
        item["language"] = a.language
    extension: dict[str, Any] = {}
    if a.image is not None:
        image = {
            "url": a.image.url,
            "caption": a.image.caption,
            "credit": a.image.credit,
            "width": a.image.width,
            "height": a.image.height,
            "mime_type": a.image.mime_type,
            "length": a.image.length,
        }
        extension["image"] = {k: v for k, v in image.items() if v is not None}
    if a.related:
        extension["related"] = [
            {
                **({"url": r.url} if r.url is not None else {}),
                **({"title": r.title} if r.title else {}),
            }
            for r in a.related
        ]
    if extension:
        extension["sections"] = list(a.sections)
        item["_syndicate"] = extension
    return item


def frame(ctx: FeedContext, section: Section, updated: datetime) -> tuple[bytes, bytes]:
    """The document around the items (JSON Feed has no feed date: `updated` is unused)."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": feed_title(ctx, section),
        "home_page_url": home_url(ctx, section),
        # The feed's identity, on its archive pages too (they are pages of the same feed).
        "feed_url": current_url(ctx, section, FILENAME),
        "description": section.description_in(section.language),
        "language": section.language,
    }
    links = archive_links(section)
    if links is not None and links.prev is not None:
        # JSON Feed's pagination: the next `n` (older) items, down to the oldest page.
        feed["next_url"] = archive_url(ctx, section, links.prev, FILENAME)
    hub = hub_url(ctx, section)
    if hub:
        feed["hubs"] = [{"type": "WebSub", "url": hub}]
    feed["items"] = []  # last: the items go where its `[]` is
    document = _dumps(feed)
    return document[:-2], b"]}\n"
