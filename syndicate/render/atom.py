"""Atom 1.0 for one section, built with feedgen plus a Syndicate extension for entry links.

feedgen drops `rel`/`type`/`length` on entry links (feedgen issue #135), so only the
alternate link goes through it; enclosure and related links are written by the extension.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate.config import Section
from syndicate.model import Article
from syndicate.render.context import (
    XML_LANG,
    ArticleEntryExtension,
    FeedContext,
    article_id,
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
_EXT = "syndicate"


class SyndicateAtomExtension(BaseExtension):  # type: ignore[misc]
    """Feed level: `fh:archive` on an archive page (RFC 5005); links go through feedgen,
    which keeps their attributes at feed level."""

    def __init__(self) -> None:
        self._archive = False

    def archive(self, value: bool) -> None:
        self._archive = value

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS} if self._archive else {}

    def extend_atom(self, feed: Any) -> Any:
        if self._archive:
            etree.SubElement(feed, f"{{{FH_NS}}}archive")
        return feed


class SyndicateAtomEntryExtension(ArticleEntryExtension):
    """Entry level: `xml:lang` where it differs, image enclosure and related links."""

    def extend_atom(self, entry: Any) -> Any:
        a = self._article
        if a is None:
            return entry
        if a.language != self._feed_language:
            entry.set(XML_LANG, a.language)
        # Links go right after feedgen's alternate link, in a fixed order.
        anchor = entry.find("link")
        if anchor is not None:  # feedgen wrote it bare (issue #135): restore rel and type.
            anchor.set("rel", "alternate")
            anchor.set("type", "text/html")
        position = list(entry).index(anchor) + 1 if anchor is not None else len(entry)
        links: list[dict[str, str]] = []
        if a.image is not None:
            enclosure = {"href": a.image.url, "rel": "enclosure"}
            if a.image.mime_type:
                enclosure["type"] = a.image.mime_type
            if a.image.length:
                enclosure["length"] = str(a.image.length)
            if a.image.caption:
                enclosure["title"] = a.image.caption
            links.append(enclosure)
        for rel in a.related:
            related = {"href": rel.url, "rel": "related"}
            if rel.title:
                related["title"] = rel.title
            links.append(related)
        for offset, attrs in enumerate(links):
            entry.insert(position + offset, etree.Element("link", attrs))
        return entry


def render(ctx: FeedContext, section: Section, articles: Sequence[Article]) -> bytes:
    """Atom 1.0 document for `section`; `articles` newest first, already public and limited."""
    fg = FeedGenerator()
    fg.register_extension(
        _EXT, SyndicateAtomExtension, SyndicateAtomEntryExtension, atom=True, rss=False
    )
    # An archive page is part of the same logical feed: it keeps the current feed's id.
    fg.id(current_url(ctx, section, FILENAME))
    fg.title(feed_title(ctx, section))
    fg.subtitle(section.description_in(section.language))
    fg.link(href=self_url(ctx, section, FILENAME), rel="self", type=_LINK_TYPE)
    fg.link(href=home_url(ctx, section), rel="alternate", type="text/html")
    hub = hub_url(ctx, section)
    if hub:
        fg.link(href=hub, rel="hub")
    for link in archive_link_attrs(ctx, section, FILENAME, _LINK_TYPE):
        fg.link(**link)
    getattr(fg, _EXT).archive(is_archive(section))
    # RFC 4287 needs a feed-level author unless every entry has one; the site is always true.
    fg.author({"name": ctx.site_title, "uri": f"{ctx.base_url}/"})
    fg.language(section.language)
    fg.generator(ctx.generator, version=ctx.generator_version)
    fg.updated(feed_updated(articles))

    for a in articles:
        fe = fg.add_entry(order="append")
        fe.id(article_id(a))
        fe.title(a.headline)
        fe.updated(a.modified)
        fe.published(a.published)
        fe.link(href=a.canonical_url, rel="alternate", type="text/html")
        if a.summary:
            fe.summary(a.summary)
        fe.content(a.body_html, type="html")
        for author in a.authors:
            fields = {"name": author.name}
            if author.url:
                fields["uri"] = author.url
            if author.email:
                fields["email"] = author.email
            fe.author(fields)
        for term, scheme in categories(a):
            fe.category(term=term, scheme=scheme) if scheme else fe.category(term=term)
        getattr(fe, _EXT).article(a, section.language)

    return xml_document(fg.atom_str(xml_declaration=False, encoding="UTF-8"), ctx)
