"""OPML 2.0 subscription list: one feed per section, so an import subscribes each section once.

Each declared section is one outline for its RSS 2.0 feed (`type="rss"`, `version="RSS2"`,
the one feed type OPML 2.0 names). Atom and JSON Feed have no OPML type readers agree on;
their addresses are on each section's page and in its autodiscovery links. `all` is left
out: it repeats every section's stories (a reader who wants everything in one subscription
takes `/feeds/all/…` from the index page).
Pure: no `dateCreated` (it would need the clock), so the same sections give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from syndicate.core.config import ALL_SECTION, Section
from syndicate.render import rss
from syndicate.render.context import FeedContext, feed_title

FILENAME = "opml.xml"
MEDIA_TYPE = "text/x-opml; charset=utf-8"


def render_opml(ctx: FeedContext, sections: Sequence[Section]) -> bytes:
    """OPML 2.0 with one RSS subscription per given section (`all` skipped, see above)."""
    root = etree.Element("opml", {"version": "2.0"})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"{ctx.site_title} feeds"
    etree.SubElement(head, "ownerName").text = ctx.site_title
    body = etree.SubElement(root, "body")
    for section in sections:
        if section.slug == ALL_SECTION:
            continue
        title = feed_title(ctx, section)
        etree.SubElement(
            body,
            "outline",
            {
                "type": "rss",
                "version": "RSS2",
                "text": title,
                "title": title,
                "description": section.description_in(section.language),
                "xmlUrl": ctx.feed_url(section.slug, rss.FILENAME),
                "htmlUrl": ctx.home_url(section.slug),
                "language": section.language,
            },
        )
    text = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text
