"""Atom 1.0 for one section: the feed element built as an lxml tree, each entry as text.

It writes what feedgen 1.0 wrote for us before, in the same order (the same bytes), with the
entry links it could not write (feedgen issue #135 dropped `rel`/`type`/`length`). Like
feedgen, the Atom namespace is declared with a plain `xmlns` on the root and every element
is written unprefixed. An entry is a function of its article and the feed's language only,
written as text (`xmltext`), escaped exactly as lxml would.
"""

from __future__ import annotations

from datetime import datetime

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
from syndicate.render.xmltext import attr, body_text, element, split_at

FILENAME = "atom.xml"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
_LINK_TYPE = "application/atom+xml"

_Sub = etree.SubElement


def _text(parent: etree._Element, tag: str, value: str) -> etree._Element:
    elem = _Sub(parent, tag)
    elem.text = value
    return elem


def item(a: Article, feed_language: str) -> bytes:
    """One `<entry>`: the same bytes wherever it stands, in any feed of this language."""
    lang = b' xml:lang="%s"' % attr(a.language) if a.language != feed_language else b""
    out = [
        b"<entry%s>" % lang,
        element(b"id", atom_id(a)),
        element(b"title", a.headline),
        element(b"updated", a.modified.isoformat()),
    ]
    for author in a.authors:
        out.append(b"<author>")
        out.append(element(b"name", author.name))
        if author.email:
            out.append(element(b"email", author.email))
        if author.url:
            out.append(element(b"uri", author.url))
        out.append(b"</author>")
    out.append(b'<content type="html">%s</content>' % body_text(a.body_html))
    out.append(b'<link href="%s" rel="alternate" type="text/html"/>' % attr(a.canonical_url))
    image = a.image
    if image is not None:
        out.append(b'<link href="%s" rel="enclosure"' % attr(image.url))
        if image.mime_type:
            out.append(b' type="%s"' % attr(image.mime_type))
        if image.length:
            out.append(b' length="%d"' % image.length)
        if image.caption:
            out.append(b' title="%s"' % attr(image.caption))
        out.append(b"/>")
    for link in a.related:
        if link.url is None:  # a story named without a link: no link element
            continue
        title = b' title="%s"' % attr(link.title) if link.title else b""
        out.append(b'<link href="%s" rel="related"%s/>' % (attr(link.url), title))
    if a.summary:
        out.append(element(b"summary", a.summary))
    for term, scheme in categories(a):
        scheme_attr = b' scheme="%s"' % attr(scheme) if scheme else b""
        out.append(b'<category term="%s"%s/>' % (attr(term), scheme_attr))
    out.append(element(b"published", a.published.isoformat()))
    out.append(b"</entry>")
    return b"".join(out)


def frame(ctx: FeedContext, section: Section, updated: datetime) -> tuple[bytes, bytes]:
    """The document around the entries (`updated`: the newest article's `modified`)."""
    archived = is_archive(section)
    feed = etree.Element(
        "feed",
        {"xmlns": ATOM_NS, XML_LANG: section.language},
        nsmap={"fh": FH_NS} if archived else None,
    )
    # An archive page is part of the same logical feed: it keeps the current feed's id.
    _text(feed, "id", current_url(ctx, section, FILENAME))
    _text(feed, "title", feed_title(ctx, section))
    _text(feed, "updated", updated.isoformat())
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
    document = etree.tostring(feed, encoding="UTF-8", xml_declaration=False)
    return split_at(xml_document(document, ctx), b"</feed>")
