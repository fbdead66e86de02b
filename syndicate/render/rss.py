"""RSS 2.0 for one section, built directly as an lxml tree.

It writes what feedgen 1.0 wrote for us before (the same elements in the same order, so the
same bytes), about four times faster: feedgen keeps every value in its own objects and then
builds this very tree, and rendering is the cost of every full regeneration. Dates come from
the data, formatted without the process locale; nothing here reads the clock.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

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
    feed_updated,
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

FILENAME = "rss.xml"
MEDIA_TYPE = "application/rss+xml; charset=utf-8"
DOCS = "http://www.rssboard.org/rss-specification"
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
_ATOM_LINK = ATOM_LINK
_CREATOR = f"{{{DC_NS}}}creator"
_LANGUAGE = f"{{{DC_NS}}}language"
_ENCODED = f"{{{CONTENT_NS}}}encoded"
_MEDIA_CONTENT = f"{{{MEDIA_NS}}}content"
_MEDIA_DESCRIPTION = f"{{{MEDIA_NS}}}description"
_MEDIA_CREDIT = f"{{{MEDIA_NS}}}credit"

_Sub = etree.SubElement


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    elem = _Sub(parent, tag)
    elem.text = text
    return elem


def _item(channel: etree._Element, a: Article, feed_language: str) -> None:
    item = _Sub(channel, "item")
    _text(item, "title", a.headline)
    _text(item, "link", a.canonical_url)
    if a.summary:
        # RSS readers take <description> as HTML: the plain-text summary is escaped as HTML
        # first, so a "<b>" typed by an editor shows as text, never as markup.
        _text(item, "description", html.escape(a.summary, quote=False))
        _text(item, _ENCODED, a.body_html)
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
        # RSS requires a true length; without one the image rides in media:content only.
        _Sub(item, "enclosure", url=image.url, length=str(image.length), type=image.mime_type)
    _text(item, "pubDate", rfc822(a.published))
    # Authors go to `dc:creator` only: RSS <author> must be an e-mail, and repeating a name
    # there makes readers list the author twice; e-mails stay in Atom, which has a field.
    for author in a.authors:
        _text(item, _CREATOR, author.name)
    if a.language != feed_language:
        _text(item, _LANGUAGE, a.language)
    if image is not None:
        media = _Sub(item, _MEDIA_CONTENT, url=image.url, medium="image")
        if image.mime_type:
            media.set("type", image.mime_type)
        if image.width:
            media.set("width", str(image.width))
        if image.height:
            media.set("height", str(image.height))
        if image.length:
            media.set("fileSize", str(image.length))
        if image.caption:
            _text(media, _MEDIA_DESCRIPTION, image.caption).set("type", "plain")
        if image.credit:
            _text(media, _MEDIA_CREDIT, image.credit)
    for link in a.related:
        if link.url is None:  # a story named without a link: nothing to point at
            continue
        related = _Sub(item, _ATOM_LINK, href=link.url, rel="related")
        if link.title:
            related.set("title", link.title)


def render(ctx: FeedContext, section: Section, articles: Sequence[Article]) -> bytes:
    """RSS 2.0 document for `section`; `articles` newest first, already public and limited."""
    rss = etree.Element(
        "rss", version="2.0", nsmap=_ARCHIVE_NSMAP if is_archive(section) else _NSMAP
    )
    channel = _Sub(rss, "channel")
    _text(channel, "title", feed_title(ctx, section))
    _text(channel, "link", home_url(ctx, section))
    _text(channel, "description", section.description_in(section.language))
    _Sub(channel, _ATOM_LINK, href=self_url(ctx, section, FILENAME), rel="self", type=_LINK_TYPE)
    _text(channel, "docs", DOCS)
    _text(channel, "generator", f"{ctx.generator} {ctx.generator_version}")
    _text(channel, "language", section.language)
    _text(channel, "ttl", str(ctx.ttl_minutes))
    _text(channel, "lastBuildDate", rfc822(feed_updated(articles)))
    hub = hub_url(ctx, section)
    if hub:
        _Sub(channel, _ATOM_LINK, href=hub, rel="hub")
    # RFC 5005 links as `atom:link`, and `fh:archive` on an archive page (its appendix B).
    append_archive_links(channel, ctx, section, FILENAME, _LINK_TYPE, tag=_ATOM_LINK)
    for a in articles:
        _item(channel, a, section.language)
    return xml_document(etree.tostring(rss, encoding="UTF-8", xml_declaration=False), ctx)
