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
    atom_id,
    categories,
    feed_title,
    feed_updated,
    xml_document,
)

FILENAME = "atom.xml"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
_EXT = "syndicate"


class SyndicateAtomExtension(BaseExtension):  # type: ignore[misc]
    """Feed level: nothing beyond feedgen (feed links keep their attributes)."""


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
            if rel.url is None:  # a story named without a link: no link element
                continue
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
    self_url = ctx.feed_url(section.slug, FILENAME)
    fg.id(self_url)
    fg.title(feed_title(ctx, section))
    fg.subtitle(section.description_in(section.language))
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=ctx.home_url(section.slug), rel="alternate", type="text/html")
    if ctx.websub_hub:
        fg.link(href=ctx.websub_hub, rel="hub")
    # RFC 4287 needs a feed-level author unless every entry has one; the site is always true.
    fg.author({"name": ctx.site_title, "uri": f"{ctx.base_url}/"})
    fg.language(section.language)
    fg.generator(ctx.generator, version=ctx.generator_version)
    fg.updated(feed_updated(articles))

    for a in articles:
        fe = fg.add_entry(order="append")
        fe.id(atom_id(a))
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
