"""Existing feeds read into `FeedEntry` items: RSS and Atom through feedparser, JSON Feed 1.x
as JSON, WordPress exports through `wxr`. Each item keeps the identity readers hold (guid)."""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from syndicate.importing import wxr
from syndicate.importing.entry import FeedEntry, FeedFile
from syndicate.importing.fields import (
    bounded_summary,
    clean_tags,
    http_url,
    paragraphs_html,
    parse_date,
    text_of,
)

# feedparser and json hold the whole document; a WordPress export is streamed instead.
MAX_FEED_BYTES = 64 * 1024 * 1024
# Syndicate's own feeds mark section categories with this scheme (render/context.py): a
# re-imported Syndicate feed keeps its tags, not our section slugs as tags.
_SECTION_SCHEME = "urn:syndicate:section"
_FORMATS = {"rss20": "RSS 2.0", "atom10": "Atom 1.0", "atom03": "Atom 0.3", "rss10": "RSS 1.0"}


_RSS_AUTHOR = re.compile(r"\s*(?P<email>[^@\s()]+@[^@\s()]+\.[^@\s()]+)\s*\((?P<name>[^()]+)\)\s*$")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class NotAFeed(ValueError):
    """The file is none of the formats read here; the message says what was found."""


def read_feed(data: bytes) -> FeedFile:
    """Every item of an RSS 2.0, Atom 1.0, JSON Feed or WordPress export (WXR) document."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if wxr.is_wxr(head):
        return wxr.read(data)
    if len(data) > MAX_FEED_BYTES:
        raise NotAFeed(f"the file is {len(data)} bytes, at most {MAX_FEED_BYTES} are read")
    if head.startswith(b"{"):
        return _json_feed(data)
    import feedparser

    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=True)
    version = parsed.get("version") or ""
    if not version:
        reason = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise NotAFeed(f"not RSS, Atom, JSON Feed or a WordPress export ({reason})")
    language = parsed.feed.get("language") or _detail_language(parsed.feed.get("title_detail"))
    entries = [_entry(n, e) for n, e in enumerate(parsed.entries, start=1)]
    return FeedFile(_FORMATS.get(version, version), language, entries)


def _detail_language(detail: Any) -> str | None:
    if isinstance(detail, Mapping) and isinstance(detail.get("language"), str):
        return str(detail["language"]) or None
    return None


def _date(raw: Any, parsed: Any, name: str, notes: list[str]) -> datetime | None:
    when, note = parse_date(raw)
    if when is None and parsed:
        # feedparser read a form we do not (it knows dozens): its UTC reading, offset lost.
        when = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
        note = f"{raw!r} read by feedparser, in UTC"
    if note:
        notes.append(f"{name}: {note}")
    return when


def _entry(position: int, e: Mapping[str, Any]) -> FeedEntry:
    out = FeedEntry(position)
    out.guid = _clean(e.get("id"))
    out.link = http_url(e.get("link"))
    if not out.guid and out.link:
        out.guid = out.link
        out.notes.append("guid: none in the item; its link is what readers knew it by")
    out.headline = text_of(e.get("title")) or None
    out.published = _date(e.get("published"), e.get("published_parsed"), "published", out.notes)
    out.updated = _date(e.get("updated"), e.get("updated_parsed"), "updated", out.notes)
    _settle_dates(out)
    authors = e.get("authors") or []
    # feedparser cuts e-mail addresses at a four-letter top-level domain: read RSS's
    # "e-mail (Name)" ourselves.
    raw = e.get("author")
    if isinstance(raw, str) and len(authors) <= 1 and (found := _RSS_AUTHOR.match(raw)):
        authors = [{"name": found["name"], "email": found["email"]}]
    for author in authors:
        name = _clean(author.get("name")) or _clean(author.get("email"))
        if not name:
            continue
        item = {"name": name[:200]}
        if url := http_url(author.get("href")):
            item["url"] = url
        if (email := _clean(author.get("email"))) and re.fullmatch(
            r"[^@\s]+@[^@\s]+\.[^@\s]+", email
        ):
            item["email"] = email
        if item not in out.authors:
            out.authors.append(item)
    out.tags = clean_tags(
        t.get("label") or t.get("term")
        for t in e.get("tags") or []
        if t.get("scheme") != _SECTION_SCHEME
    )
    content = next(iter(e.get("content") or []), None)
    summary = e.get("summary")
    if content and _clean(content.get("value")):
        out.body_html = _as_html(content.get("value"), content.get("type"))
        summary_text = text_of(summary)
        if summary_text and summary_text != text_of(out.body_html):
            out.summary = summary_text
    elif _clean(summary):
        out.body_html = _as_html(summary, (e.get("summary_detail") or {}).get("type"))
    else:
        out.notes.append("body: the item has no content or summary")
    _bound_summary(out)
    out.image = _image(e, out.notes)
    out.related = [
        {"url": url, **({"title": text_of(link.get("title"))} if link.get("title") else {})}
        for link in e.get("links") or []
        if link.get("rel") == "related" and (url := http_url(link.get("href")))
    ][:50]
    out.language = _detail_language(e.get("title_detail")) or _detail_language(content)
    return out


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _as_html(value: Any, media_type: Any) -> str:
    text = value if isinstance(value, str) else ""
    if media_type == "text/plain":
        return paragraphs_html(text)
    return text.strip()


def _settle_dates(out: FeedEntry) -> None:
    # Atom requires `updated` and leaves `published` optional: the first is then both.
    if out.published is None and out.updated is not None:
        out.published, out.updated = out.updated, None
    if out.published and out.updated and out.updated <= out.published:
        out.updated = None


def _bound_summary(out: FeedEntry) -> None:
    if out.summary:
        out.summary, note = bounded_summary(out.summary)
        if note:
            out.notes.append(note)


def _image(e: Mapping[str, Any], notes: list[str]) -> dict[str, Any] | None:
    """The lead image: Media RSS content, else an image enclosure, else a thumbnail."""
    for media in e.get("media_content") or []:
        url = http_url(media.get("url"))
        kind = media.get("type") or ""
        if url and (media.get("medium") == "image" or kind.startswith("image/")):
            image: dict[str, Any] = {"url": url}
            if kind.startswith("image/"):
                image["mime_type"] = kind
            for key, source in (("width", "width"), ("height", "height"), ("length", "filesize")):
                if str(media.get(source, "")).isdigit() and int(media[source]) > 0:
                    image[key] = int(media[source])
            return image
    for enclosure in e.get("enclosures") or []:
        url, kind = http_url(enclosure.get("href")), enclosure.get("type") or ""
        if url and kind.startswith("image/"):
            image = {"url": url, "mime_type": kind}
            if str(enclosure.get("length", "")).isdigit() and int(enclosure["length"]) > 0:
                image["length"] = int(enclosure["length"])
            return image
        if url:
            notes.append(
                f"enclosure {kind or 'of unknown type'} left out: a record holds images only"
            )
    for thumbnail in e.get("media_thumbnail") or []:
        if url := http_url(thumbnail.get("url")):
            return {"url": url}
    return None


# -- JSON Feed 1.0 / 1.1 ----------------------------------------------------------------------
def _json_feed(data: bytes) -> FeedFile:
    try:
        feed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise NotAFeed(f"not a JSON Feed: {exc}") from None
    version = feed.get("version") if isinstance(feed, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        raise NotAFeed("not a JSON Feed: no https://jsonfeed.org/version/ in `version`")
    items = feed.get("items")
    if not isinstance(items, list):
        raise NotAFeed("not a JSON Feed: `items` is not a list")
    feed_authors = _json_authors(
        feed.get("authors") or ([feed["author"]] if "author" in feed else [])
    )
    entries = [
        _json_item(n, item, feed_authors)
        for n, item in enumerate(items, start=1)
        if isinstance(item, dict)
    ]
    label = "JSON Feed " + version.rsplit("/", 1)[-1]
    language = feed.get("language") if isinstance(feed.get("language"), str) else None
    return FeedFile(label, language, entries)


def _json_authors(values: Iterable[Any]) -> list[dict[str, str]]:
    out = []
    for value in values:
        if isinstance(value, dict) and (name := _clean(value.get("name"))):
            author = {"name": name[:200]}
            if url := http_url(value.get("url")):
                author["url"] = url
            out.append(author)
    return out


def _json_item(
    position: int, item: dict[str, Any], feed_authors: list[dict[str, str]]
) -> FeedEntry:
    out = FeedEntry(position)
    raw_id = item.get("id")
    out.guid = _clean(str(raw_id)) if isinstance(raw_id, (str, int)) else None
    out.link = http_url(item.get("url")) or http_url(item.get("external_url"))
    if not out.guid and out.link:
        out.guid = out.link
    out.headline = _clean(item.get("title"))
    out.published, note = parse_date(item.get("date_published"))
    if note:
        out.notes.append(f"published: {note}")
    out.updated, note = parse_date(item.get("date_modified"))
    if note:
        out.notes.append(f"updated: {note}")
    _settle_dates(out)
    authors = item.get("authors") or ([item["author"]] if "author" in item else [])
    out.authors = _json_authors(authors) or feed_authors
    out.tags = clean_tags(item.get("tags") or [])
    if isinstance(item.get("content_html"), str) and item["content_html"].strip():
        out.body_html = item["content_html"].strip()
    elif isinstance(item.get("content_text"), str):
        out.body_html = paragraphs_html(item["content_text"])
    summary = _clean(item.get("summary"))
    if summary and summary != text_of(out.body_html):
        out.summary = summary
    _bound_summary(out)
    if url := http_url(item.get("image")) or http_url(item.get("banner_image")):
        out.image = {"url": url}
    extension = item.get("_syndicate")
    if isinstance(extension, dict):
        image = extension.get("image")
        if out.image and isinstance(image, dict) and image.get("url") == out.image["url"]:
            out.image = {k: v for k, v in image.items() if k in _IMAGE_KEYS}
        out.related = [
            {k: v for k, v in r.items() if k in ("url", "title") and isinstance(v, str)}
            for r in extension.get("related") or []
            if isinstance(r, dict)
        ][:50]
    if isinstance(item.get("language"), str):
        out.language = item["language"]
    return out


_IMAGE_KEYS = ("url", "caption", "credit", "width", "height", "mime_type", "length")
