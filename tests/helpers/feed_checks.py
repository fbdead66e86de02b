"""What a feed validator would say of a document: the W3C Feed Validator's rules that matter
for RSS and Atom, and JSON Feed 1.1's requirements. Each returns the problems found (none:
valid), one line each."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from lxml import etree

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
# Atom as we write it: a default namespace declared on the root.
A = {"a": "http://www.w3.org/2005/Atom", **NS}
RFC822_NUMERIC = re.compile(
    r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)


def xpath(node: etree._Element, expr: str) -> list[Any]:
    """XPath with the feed namespaces, typed as the list it always is here."""
    result = node.xpath(expr, namespaces=A)
    assert isinstance(result, list)
    return result


def rss_problems(data: bytes) -> list[str]:
    problems = []
    channel = etree.fromstring(data).find("channel")
    assert channel is not None
    if len(channel.findall("link")) != 1:
        problems.append("channel needs exactly one <link>")
    selfs = xpath(channel, "atom:link[@rel='self']")
    if len(selfs) != 1 or selfs[0].get("type") != "application/rss+xml":
        problems.append("atom:link rel=self with type application/rss+xml missing")
    for date in xpath(channel, "lastBuildDate/text() | item/pubDate/text()"):
        if not RFC822_NUMERIC.match(date):
            problems.append(f"not an RFC 822 date with numeric zone: {date}")
    for item in channel.findall("item"):
        if item.find("guid") is None:
            problems.append("item without guid")
        if item.find("author") is not None and "@" not in (item.findtext("author") or ""):
            problems.append("author must be an e-mail")
        for enc in item.findall("enclosure"):
            if not (enc.get("length") or "").isdigit() or not enc.get("type"):
                problems.append("enclosure needs a numeric length and a type")
        if item.find("media:group", NS) is not None:
            problems.append("media:group wrapping")
    return problems


def atom_problems(data: bytes) -> list[str]:
    problems = []
    feed = etree.fromstring(data)
    entries = feed.findall("a:entry", A)
    if feed.find("a:author", A) is None and any(e.find("a:author", A) is None for e in entries):
        problems.append("feed without author while an entry has none")
    for node in [feed, *entries]:
        where = node.findtext("a:id", "feed", A)
        for child in ("id", "title", "updated"):
            if not node.findtext(f"a:{child}", None, A):
                problems.append(f"{where}: missing {child}")
        alternates = [
            (e.get("type"), e.get("hreflang"))
            for e in node.findall("a:link", A)
            if e.get("rel", "alternate") == "alternate"
        ]
        if len(alternates) != len(set(alternates)):
            problems.append(f"{where}: two alternate links with the same type/hreflang")
        for content in node.findall("a:content", A):
            if content.get("type") != "html":
                problems.append(f"{where}: content type is not html")
        for date in xpath(node, "a:updated/text() | a:published/text()"):
            if datetime.fromisoformat(date).tzinfo is None:
                problems.append(f"{where}: date without offset")
    return problems


def json_feed_problems(feed: dict[str, Any]) -> list[str]:
    """What JSON Feed 1.1 requires and a document lacks (https://jsonfeed.org/version/1.1)."""
    problems = []
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append("version is not https://jsonfeed.org/version/1.1")
    if not isinstance(feed.get("title"), str) or not feed["title"]:
        problems.append("title missing")
    for key in ("home_page_url", "feed_url", "next_url"):
        if key in feed and not str(feed[key]).startswith(("https://", "http://")):
            problems.append(f"{key} is not an absolute URL")
    items = feed.get("items")
    if not isinstance(items, list):
        return [*problems, "items is not a list"]
    ids = [item.get("id") for item in items]
    if len(set(ids)) != len(ids):
        problems.append("item ids repeat")
    for item in items:
        if not isinstance(item.get("id"), str):
            problems.append("item without a string id")
        if "content_html" not in item and "content_text" not in item:
            problems.append(f"{item.get('id')}: no content_html or content_text")
        for key in ("date_published", "date_modified"):
            if key in item and datetime.fromisoformat(item[key]).tzinfo is None:
                problems.append(f"{item.get('id')}: {key} without an offset")
    return problems
