"""The reference for the feeds' items: RSS and Atom items built as lxml trees and serialised,
as the renderers wrote them before they wrote items as bytes (`render/xmltext.py`). Tests
hold the renderers' bytes to these, so readers get the very bytes lxml gave them."""

from __future__ import annotations

import html

from lxml import etree

from syndicate.core.model import Article
from syndicate.render.context import (
    ATOM_NS,
    CONTENT_NS,
    DC_NS,
    MEDIA_NS,
    XML_LANG,
    atom_id,
    categories,
    rfc822,
    rss_guid,
)

_Sub = etree.SubElement
_RSS_NSMAP = {"dc": DC_NS, "media": MEDIA_NS, "atom": ATOM_NS, "content": CONTENT_NS}


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    elem = _Sub(parent, tag)
    elem.text = text
    return elem


def rss_item(a: Article, feed_language: str) -> bytes:
    channel = _Sub(etree.Element("rss", nsmap=_RSS_NSMAP), "channel")
    item = _Sub(channel, "item")
    _text(item, "title", a.headline)
    _text(item, "link", a.canonical_url)
    if a.summary:
        _text(item, "description", html.escape(a.summary, quote=False))
        _text(item, f"{{{CONTENT_NS}}}encoded", a.body_html)
    else:
        _text(item, "description", a.body_html)
    guid, permalink = rss_guid(a)
    _text(item, "guid", guid).set("isPermaLink", "true" if permalink else "false")
    for term, scheme in categories(a):
        category = _text(item, "category", term)
        if scheme:
            category.set("domain", scheme)
    image = a.image
    if image is not None and image.length and image.mime_type:
        _Sub(item, "enclosure", url=image.url, length=str(image.length), type=image.mime_type)
    _text(item, "pubDate", rfc822(a.published))
    for author in a.authors:
        _text(item, f"{{{DC_NS}}}creator", author.name)
    if a.language != feed_language:
        _text(item, f"{{{DC_NS}}}language", a.language)
    if image is not None:
        media = _Sub(item, f"{{{MEDIA_NS}}}content", url=image.url, medium="image")
        if image.mime_type:
            media.set("type", image.mime_type)
        if image.width:
            media.set("width", str(image.width))
        if image.height:
            media.set("height", str(image.height))
        if image.length:
            media.set("fileSize", str(image.length))
        if image.caption:
            _text(media, f"{{{MEDIA_NS}}}description", image.caption).set("type", "plain")
        if image.credit:
            _text(media, f"{{{MEDIA_NS}}}credit", image.credit)
    for link in a.related:
        if link.url is None:
            continue
        related = _Sub(item, f"{{{ATOM_NS}}}link", href=link.url, rel="related")
        if link.title:
            related.set("title", link.title)
    data = etree.tostring(channel.getparent(), encoding="UTF-8")
    return data[data.index(b"<item") : -len(b"</channel></rss>")]


def atom_entry(a: Article, feed_language: str) -> bytes:
    feed = etree.Element("feed", {"xmlns": ATOM_NS})
    entry = _Sub(feed, "entry")
    if a.language != feed_language:
        entry.set(XML_LANG, a.language)
    _text(entry, "id", atom_id(a))
    _text(entry, "title", a.headline)
    _text(entry, "updated", a.modified.isoformat())
    for author in a.authors:
        person = _Sub(entry, "author")
        _text(person, "name", author.name)
        if author.email:
            _text(person, "email", author.email)
        if author.url:
            _text(person, "uri", author.url)
    _text(entry, "content", a.body_html).set("type", "html")
    _Sub(entry, "link", href=a.canonical_url, rel="alternate", type="text/html")
    image = a.image
    if image is not None:
        enclosure = _Sub(entry, "link", href=image.url, rel="enclosure")
        if image.mime_type:
            enclosure.set("type", image.mime_type)
        if image.length:
            enclosure.set("length", str(image.length))
        if image.caption:
            enclosure.set("title", image.caption)
    for link in a.related:
        if link.url is None:
            continue
        related = _Sub(entry, "link", href=link.url, rel="related")
        if link.title:
            related.set("title", link.title)
    if a.summary:
        _text(entry, "summary", a.summary)
    for term, scheme in categories(a):
        category = _Sub(entry, "category", term=term)
        if scheme:
            category.set("scheme", scheme)
    _text(entry, "published", a.published.isoformat())
    data = etree.tostring(feed, encoding="UTF-8")
    return data[data.index(b"<entry") : -len(b"</feed>")]
