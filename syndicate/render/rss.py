"""RSS 2.0 for one section, built with feedgen plus a Syndicate extension for what it lacks.

feedgen writes dates through a process-wide locale switch; every date here goes through our
own extension instead (`pubDate`, `lastBuildDate`), so rendering is thread-safe and stable.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate.config import Section
from syndicate.model import Article
from syndicate.render.context import (
    ATOM_NS,
    DC_NS,
    MEDIA_NS,
    ArticleEntryExtension,
    FeedContext,
    article_id,
    categories,
    feed_title,
    feed_updated,
    rfc822,
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
_LINK_TYPE = "application/rss+xml"
_EXT = "syndicate"


def _sub(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
    elem = etree.SubElement(parent, tag, attrs)
    if text is not None:
        elem.text = text
    return elem


class SyndicateRssExtension(BaseExtension):  # type: ignore[misc]
    """Channel level: `lastBuildDate` from the data, the WebSub hub link and the RFC 5005
    archive links (as `atom:link`, with `fh:archive` on an archive page: RFC 5005 appendix B)."""

    def __init__(self) -> None:
        self._last_build: datetime | None = None
        self._hub: str | None = None
        self._document: tuple[FeedContext, Section] | None = None

    def document(self, ctx: FeedContext, section: Section) -> None:
        self._document = ctx, section

    def last_build(self, value: datetime) -> None:
        self._last_build = value

    def hub(self, url: str | None) -> None:
        self._hub = url

    def extend_ns(self) -> dict[str, str]:
        namespaces = {"dc": DC_NS, "media": MEDIA_NS}
        if self._document is not None and is_archive(self._document[1]):
            namespaces["fh"] = FH_NS
        return namespaces

    def extend_rss(self, feed: Any) -> Any:
        channel = feed[0]
        if self._last_build is not None:
            _sub(channel, "lastBuildDate", rfc822(self._last_build))
        if self._hub:
            _sub(channel, f"{{{ATOM_NS}}}link", href=self._hub, rel="hub")
        if self._document is not None:
            ctx, section = self._document
            append_archive_links(channel, ctx, section, FILENAME, _LINK_TYPE, tag=ATOM_LINK)
        return feed


class SyndicateRssEntryExtension(ArticleEntryExtension):
    """Item level: `pubDate`, `dc:creator`, `dc:language`, Media RSS and related links.

    Authors go to `dc:creator` only: RSS `<author>` must be an e-mail, and repeating a name
    there makes readers list the author twice; e-mails stay in Atom, which has a field.
    """

    def extend_rss(self, item: Any) -> Any:
        a = self._article
        if a is None:
            return item
        _sub(item, "pubDate", rfc822(a.published))
        for author in a.authors:
            _sub(item, f"{{{DC_NS}}}creator", author.name)
        if a.language != self._feed_language:
            _sub(item, f"{{{DC_NS}}}language", a.language)
        if a.image is not None:
            img = a.image
            attrs = {"url": img.url, "medium": "image"}
            if img.mime_type:
                attrs["type"] = img.mime_type
            if img.width:
                attrs["width"] = str(img.width)
            if img.height:
                attrs["height"] = str(img.height)
            if img.length:
                attrs["fileSize"] = str(img.length)
            media = _sub(item, f"{{{MEDIA_NS}}}content", **attrs)
            if img.caption:
                _sub(media, f"{{{MEDIA_NS}}}description", img.caption, type="plain")
            if img.credit:
                _sub(media, f"{{{MEDIA_NS}}}credit", img.credit)
        for link in a.related:
            attrs = {"href": link.url, "rel": "related"}
            if link.title:
                attrs["title"] = link.title
            _sub(item, f"{{{ATOM_NS}}}link", **attrs)
        return item


def render(ctx: FeedContext, section: Section, articles: Sequence[Article]) -> bytes:
    """RSS 2.0 document for `section`; `articles` newest first, already public and limited."""
    fg = FeedGenerator()
    fg.register_extension(_EXT, SyndicateRssExtension, SyndicateRssEntryExtension)
    fg.title(feed_title(ctx, section))
    fg.description(section.description_in(section.language))
    # RSS <link> is the LAST link given: self first, alternate last.
    fg.link(href=self_url(ctx, section, FILENAME), rel="self", type=_LINK_TYPE)
    fg.link(href=home_url(ctx, section), rel="alternate")
    fg.language(section.language)
    fg.generator(f"{ctx.generator} {ctx.generator_version}")
    fg.ttl(ctx.ttl_minutes)
    # feedgen defaults lastBuildDate to now and formats it via setlocale(); drop it and let
    # the extension write the date from the data (the only reach into feedgen's privates).
    fg._FeedGenerator__rss_lastBuildDate = None
    ext: SyndicateRssExtension = getattr(fg, _EXT)
    ext.last_build(feed_updated(articles))
    ext.hub(hub_url(ctx, section))
    ext.document(ctx, section)

    for a in articles:
        fe = fg.add_entry(order="append")
        fe.title(a.headline)
        fe.link(href=a.canonical_url, rel="alternate")
        fe.guid(article_id(a), permalink=False)
        if a.summary:
            # RSS readers take <description> as HTML: the plain-text summary is escaped as
            # HTML first, so a "<b>" typed by an editor shows as text, never as markup.
            fe.description(html.escape(a.summary, quote=False))
        fe.content(a.body_html)
        for term, scheme in categories(a):
            fe.category(term=term, scheme=scheme) if scheme else fe.category(term=term)
        if a.image is not None and a.image.length and a.image.mime_type:
            # RSS requires a true length; without one the image rides in media:content only.
            fe.enclosure(a.image.url, str(a.image.length), a.image.mime_type)
        getattr(fe, _EXT).article(a, section.language)

    return xml_document(fg.rss_str(xml_declaration=False, encoding="UTF-8"), ctx)
