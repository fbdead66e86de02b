"""RSS 2.0 for one section: the channel built as an lxml tree, each item written as text.

It writes what feedgen 1.0 wrote for us before (the same elements in the same order, so the
same bytes). An item is a function of its article and the feed's language only, so the
fragment cache can keep it for every feed it appears in; it is written as text (`xmltext`),
escaped exactly as lxml would, at a fraction of a tree's cost. Dates come from the data,
formatted without the process locale; nothing here reads the clock.
"""

from __future__ import annotations

import html
from datetime import datetime

from lxml import etree

from syndicate.core.config import Section
from syndicate.core.model import Article
from syndicate.render.context import (
    ATOM_NS,
    CONTENT_NS,
    DC_NS,
    MEDIA_NS,
    FeedContext,
    categories,
    feed_title,
    rfc822,
    rss_guid,
    xml_document,
)
from syndicate.render.documents import (
    ATOM_LINK,
    FH_NS,
    append_archive_links,
    home_url,
    hub_url,
    is_archive,
    self_url,
)
from syndicate.render.xmltext import attr, body_text, element, split_at, text

FILENAME = "rss.xml"
MEDIA_TYPE = "application/rss+xml; charset=utf-8"
DOCS = "http://www.rssboard.org/rss-specification"
# The prefixes the items use are declared on the root, once.
_NSMAP = {"dc": DC_NS, "media": MEDIA_NS, "atom": ATOM_NS, "content": CONTENT_NS}
# An archive page (RFC 5005) declares `fh` too, where feedgen put an extension's namespaces.
_ARCHIVE_NSMAP = {
    "dc": DC_NS,
    "media": MEDIA_NS,
    "fh": FH_NS,
    "atom": ATOM_NS,
    "content": CONTENT_NS,
}
_LINK_TYPE = "application/rss+xml"
_BOOL = {True: b"true", False: b"false"}

_Sub = etree.SubElement


def _text(parent: etree._Element, tag: str, value: str) -> etree._Element:
    elem = _Sub(parent, tag)
    elem.text = value
    return elem


def item(a: Article, feed_language: str) -> bytes:
    """One `<item>`: the same bytes wherever it stands, in any feed of this language."""
    out = [b"<item>", element(b"title", a.headline), element(b"link", a.canonical_url)]
    if a.summary:
        # RSS readers take <description> as HTML: the plain-text summary is escaped as HTML
        # first, so a "<b>" typed by an editor shows as text, never as markup.
        out.append(element(b"description", html.escape(a.summary, quote=False)))
        out.append(b"<content:encoded>%s</content:encoded>" % body_text(a.body_html))
    else:
        out.append(b"<description>%s</description>" % body_text(a.body_html))
    guid, permalink = rss_guid(a)
    out.append(b'<guid isPermaLink="%s">%s</guid>' % (_BOOL[permalink], text(guid)))
    for term, scheme in categories(a):
        domain = b' domain="%s"' % attr(scheme) if scheme else b""
        out.append(b"<category%s>%s</category>" % (domain, text(term)))
    image = a.image
    if image is not None and image.length and image.mime_type:
        # RSS requires a true length; without one the image rides in media:content only.
        out.append(
            b'<enclosure url="%s" length="%d" type="%s"/>'
            % (attr(image.url), image.length, attr(image.mime_type))
        )
    out.append(element(b"pubDate", rfc822(a.published)))
    # Authors go to `dc:creator` only: RSS <author> must be an e-mail, and repeating a name
    # there makes readers list the author twice; e-mails stay in Atom, which has a field.
    out.extend(element(b"dc:creator", author.name) for author in a.authors)
    if a.language != feed_language:
        out.append(element(b"dc:language", a.language))
    if image is not None:
        out.append(b'<media:content url="%s" medium="image"' % attr(image.url))
        if image.mime_type:
            out.append(b' type="%s"' % attr(image.mime_type))
        if image.width:
            out.append(b' width="%d"' % image.width)
        if image.height:
            out.append(b' height="%d"' % image.height)
        if image.length:
            out.append(b' fileSize="%d"' % image.length)
        inside = []
        if image.caption:
            inside.append(
                b'<media:description type="plain">%s</media:description>' % text(image.caption)
            )
        if image.credit:
            inside.append(element(b"media:credit", image.credit))
        out.append(b">%s</media:content>" % b"".join(inside) if inside else b"/>")
    for link in a.related:
        if link.url is None:  # a story named without a link: nothing to point at
            continue
        title = b' title="%s"' % attr(link.title) if link.title else b""
        out.append(b'<atom:link href="%s" rel="related"%s/>' % (attr(link.url), title))
    out.append(b"</item>")
    return b"".join(out)


def frame(ctx: FeedContext, section: Section, updated: datetime) -> tuple[bytes, bytes]:
    """The document around the items (`updated`: the newest article's `modified`)."""
    rss = etree.Element(
        "rss", version="2.0", nsmap=_ARCHIVE_NSMAP if is_archive(section) else _NSMAP
    )
    channel = _Sub(rss, "channel")
    _text(channel, "title", feed_title(ctx, section))
    _text(channel, "link", home_url(ctx, section))
    _text(channel, "description", section.description_in(section.language))
    _Sub(channel, ATOM_LINK, href=self_url(ctx, section, FILENAME), rel="self", type=_LINK_TYPE)
    _text(channel, "docs", DOCS)
    _text(channel, "generator", f"{ctx.generator} {ctx.generator_version}")
    _text(channel, "language", section.language)
    _text(channel, "ttl", str(ctx.ttl_minutes))
    _text(channel, "lastBuildDate", rfc822(updated))
    hub = hub_url(ctx, section)
    if hub:
        _Sub(channel, ATOM_LINK, href=hub, rel="hub")
    # RFC 5005 links as `atom:link`, and `fh:archive` on an archive page (its appendix B).
    append_archive_links(channel, ctx, section, FILENAME, _LINK_TYPE, tag=ATOM_LINK)
    document = etree.tostring(rss, encoding="UTF-8", xml_declaration=False)
    return split_at(xml_document(document, ctx), b"</channel>")
