"""Atom 1.0 for one section, built directly as an lxml tree.

It writes what feedgen 1.0 wrote for us before, in the same order (the same bytes), with the
entry links it could not write (feedgen issue #135 dropped `rel`/`type`/`length`), and about
four times faster. Like feedgen, the Atom namespace is declared with a plain `xmlns` on the
root and every element is written unprefixed.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from syndicate.core.config import Section
from syndicate.core.model import Article
from syndicate.render.context import (
    ATOM_NS,
    XML_LANG,
    FeedContext,
    atom_id,
    categories,
    feed_title,
    feed_updated,
    xml_document,
)
from syndicate.render.documents import (
    FH_NS,
    archive_link_attrs,
    current_url,
    home_url,
    hub_url,
    is_archive,
    self_url,
)

FILENAME = "atom.xml"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
_LINK_TYPE = "application/atom+xml"

_Sub = etree.SubElement


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    elem = _Sub(parent, tag)
    elem.text = text
    return elem


def _entry(feed: etree._Element, a: Article, feed_language: str) -> None:
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
        if link.url is None:  # a story named without a link: no link element
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


def render(ctx: FeedContext, section: Section, articles: Sequence[Article]) -> bytes:
    """Atom 1.0 document for `section`; `articles` newest first, already public and limited."""
    archived = is_archive(section)
    feed = etree.Element(
        "feed",
        {"xmlns": ATOM_NS, XML_LANG: section.language},
        nsmap={"fh": FH_NS} if archived else None,
    )
    # An archive page is part of the same logical feed: it keeps the current feed's id.
    _text(feed, "id", current_url(ctx, section, FILENAME))
    _text(feed, "title", feed_title(ctx, section))
    _text(feed, "updated", feed_updated(articles).isoformat())
    # RFC 4287 needs a feed-level author unless every entry has one; the site is always true.
    author = _Sub(feed, "author")
    _text(author, "name", ctx.site_title)
    _text(author, "uri", f"{ctx.base_url}/")
    _Sub(feed, "link", href=self_url(ctx, section, FILENAME), rel="self", type=_LINK_TYPE)
    _Sub(feed, "link", href=home_url(ctx, section), rel="alternate", type="text/html")
    hub = hub_url(ctx, section)
    if hub:
        _Sub(feed, "link", href=hub, rel="hub")
    for link in archive_link_attrs(ctx, section, FILENAME, _LINK_TYPE):
        _Sub(feed, "link", href=link["href"], rel=link["rel"], type=link["type"])
    _text(feed, "generator", ctx.generator).set("version", ctx.generator_version)
    _text(feed, "subtitle", section.description_in(section.language))
    if archived:
        _Sub(feed, f"{{{FH_NS}}}archive")
    for a in articles:
        _entry(feed, a, section.language)
    return xml_document(etree.tostring(feed, encoding="UTF-8", xml_declaration=False), ctx)
