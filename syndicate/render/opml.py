"""OPML 2.0 subscription list: every section's RSS, Atom and JSON feeds, one folder each.

Pure: no `dateCreated` (it would need the clock), so the same sections give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from syndicate.config import Section
from syndicate.render import atom, jsonfeed, rss
from syndicate.render.context import FeedContext, feed_title

FILENAME = "opml.xml"
MEDIA_TYPE = "text/x-opml; charset=utf-8"

# (label, file, OPML `version` attribute: only RSS has a value the OPML 2.0 spec names)
_FEEDS = (
    ("RSS", rss.FILENAME, "RSS2"),
    ("Atom", atom.FILENAME, None),
    ("JSON Feed", jsonfeed.FILENAME, None),
)


def render_opml(ctx: FeedContext, sections: Sequence[Section]) -> bytes:
    """OPML 2.0 listing each given section's three feeds (pass `feed_sections(settings)`)."""
    root = etree.Element("opml", {"version": "2.0"})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"{ctx.site_title} feeds"
    etree.SubElement(head, "ownerName").text = ctx.site_title
    body = etree.SubElement(root, "body")
    for section in sections:
        title = feed_title(ctx, section)
        folder = etree.SubElement(body, "outline", {"text": title, "title": title})
        for label, filename, version in _FEEDS:
            name = f"{title} ({label})"
            attrs = {
                "type": "rss",
                "text": name,
                "title": name,
                "xmlUrl": ctx.feed_url(section.slug, filename),
                "htmlUrl": ctx.home_url(section.slug),
                "language": section.language,
            }
            if version:
                attrs["version"] = version
            etree.SubElement(folder, "outline", attrs)
    text = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text
