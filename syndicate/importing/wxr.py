"""WordPress exports (WXR: RSS 2.0 with `wp:` elements) read into `FeedEntry` items.

Streamed with lxml's iterparse, twice: first the attachments (featured images) and authors,
then the posts, so a site's whole history never sits in memory as one tree. Published posts
become articles; drafts, pages, attachments and menu items are skipped, each with the reason.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from syndicate.importing.entry import FeedEntry, FeedFile
from syndicate.importing.fields import (
    bounded_summary,
    clean_tags,
    http_url,
    parse_date,
    text_of,
)

_WXR_NS = re.compile(rb"http://wordpress\.org/export/1\.[0-9]+/")
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
# WordPress writes HTML with paragraphs implied by blank lines (its `wpautop` adds them).
_BLOCK_START = re.compile(
    r"^\s*<(?:p|div|h[1-6]|ul|ol|li|blockquote|table|pre|figure|hr|!--)[\s>/]", re.I
)


def is_wxr(head: bytes) -> bool:
    """Whether a document's first bytes declare the WordPress export namespace."""
    return head.startswith(b"<") and _WXR_NS.search(head) is not None


def _items(data: bytes) -> Iterator[tuple[etree._Element, str]]:
    """Each `<item>` (then cleared) with the namespace of this export's `wp:` elements."""
    found = _WXR_NS.search(data[:4096])
    wp = "{" + (found.group().decode() if found else "http://wordpress.org/export/1.2/") + "}"
    for _, element in etree.iterparse(
        io.BytesIO(data), events=("end",), tag="item", resolve_entities=False, no_network=True
    ):
        yield element, wp
        element.clear(keep_tail=False)


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def read(data: bytes) -> FeedFile:
    """Every post of a WordPress export, each keeping its `<guid>`."""
    authors, attachments = _first_pass(data)
    language = None
    head = re.search(rb"<language>([^<]{1,35})</language>", data[:65536])
    if head:
        language = head.group(1).decode("utf-8", "replace").strip() or None
    entries = [
        _post(n, element, wp, authors, attachments)
        for n, (element, wp) in enumerate(_items(data), start=1)
    ]
    return FeedFile("WordPress export (WXR)", language, entries)


def _first_pass(data: bytes) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """(author login -> display name, attachment post id -> image) for the posts to use."""
    authors: dict[str, str] = {}
    for match in re.finditer(
        rb"<wp:author_login>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</wp:author_login>.*?"
        rb"<wp:author_display_name>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</wp:author_display_name>",
        data[: 4 * 1024 * 1024],
        re.S,
    ):
        login, name = (m.decode("utf-8", "replace").strip() for m in match.groups())
        if login and name:
            authors[login] = name
    attachments: dict[str, dict[str, Any]] = {}
    for element, wp in _items(data):
        if _text(element, f"{wp}post_type") != "attachment":
            continue
        url = http_url(_text(element, f"{wp}attachment_url"))
        if url:
            image: dict[str, Any] = {"url": url}
            caption = text_of(_text(element, "{http://wordpress.org/export/1.2/excerpt/}encoded"))
            if caption:
                image["caption"] = caption[:2000]
            attachments[_text(element, f"{wp}post_id")] = image
    return authors, attachments


def _post(
    position: int,
    item: etree._Element,
    wp: str,
    authors: dict[str, str],
    attachments: dict[str, dict[str, Any]],
) -> FeedEntry:
    out = FeedEntry(position)
    kind, status = _text(item, f"{wp}post_type") or "post", _text(item, f"{wp}status")
    out.headline = " ".join(_text(item, "title").split()) or None
    if kind != "post":
        out.skipped = f"a WordPress {kind}, not a post"
        return out
    if status != "publish":
        out.skipped = f"a {status or 'unpublished'} post, not a published one"
        return out
    out.guid = " ".join(_text(item, "guid").split()) or None
    out.link = http_url(_text(item, "link"))
    out.published = _gmt(_text(item, f"{wp}post_date_gmt"))
    if out.published is None:
        out.published, note = parse_date(_text(item, "pubDate"))
        if note:
            out.notes.append(f"published: {note}")
    modified = _gmt(_text(item, f"{wp}post_modified_gmt"))
    if modified and out.published and modified > out.published:
        out.updated = modified
    login = _text(item, DC_CREATOR)
    if login:
        out.authors = [{"name": authors.get(login, login)[:200]}]
    out.tags = clean_tags(
        (c.text or "").strip()
        for c in item.iter("category")
        if c.get("domain") in ("category", "post_tag")
    )
    out.body_html = autop(_text(item, CONTENT))
    excerpt = text_of(_text(item, "{http://wordpress.org/export/1.2/excerpt/}encoded"))
    if excerpt:
        out.summary, note = bounded_summary(excerpt)
        if note:
            out.notes.append(note)
    for meta in item.iter(f"{wp}postmeta"):
        if _text(meta, f"{wp}meta_key") == "_thumbnail_id":
            out.image = attachments.get(_text(meta, f"{wp}meta_value"))
    return out


def _gmt(value: str) -> datetime | None:
    """WordPress's `YYYY-MM-DD hh:mm:ss` in UTC; drafts carry zeros."""
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def autop(content: str) -> str:
    """WordPress content as HTML paragraphs: text parted by blank lines becomes `<p>`s,
    single newlines `<br>`; chunks that already are blocks stay as they are."""
    chunks = [c.strip() for c in re.split(r"\n\s*\n", content.replace("\r\n", "\n")) if c.strip()]
    out = []
    for chunk in chunks:
        if _BLOCK_START.match(chunk):
            out.append(chunk)
        else:
            out.append("<p>" + "<br>\n".join(line.strip() for line in chunk.splitlines()) + "</p>")
    return "\n".join(out)
