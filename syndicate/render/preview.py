"""Previews for the editors' desk: one article's item as each reader feed and partner format
would carry it. Pure, like every renderer: the same functions the feeds use, one item cut out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

from lxml import etree

from syndicate.config import Section
from syndicate.model import PUBLISHED, Article
from syndicate.render import FORMATS, FeedContext
from syndicate.render.context import ATOM_NS
from syndicate.render.newsml import render_news_item
from syndicate.render.ninjs import render_ninjs_item
from syndicate.render.partner import PartnerContext


@dataclass(frozen=True, slots=True)
class Preview:
    label: str  # what people call the format: "RSS", "NewsML-G2"…
    text: str  # the item, indented for reading


def _pretty(element: etree._Element) -> str:
    etree.indent(element, space="  ")
    return etree.tostring(element, encoding="unicode")


def item_previews(
    feed: FeedContext, partner: PartnerContext, section: Section, article: Article, now: datetime
) -> list[Preview]:
    """The item in RSS, Atom, JSON Feed, NewsML-G2 and ninjs.

    A withdrawn article is shown as the text it last carried (feeds drop it; partners get
    that text as a kill notice). A held one is shown as it will go out at release (an
    embargo-privileged partner's copy, marked embargoed).
    """
    shown = replace(article, status=PUBLISHED)
    out: list[Preview] = []
    for fmt in FORMATS.values():
        body = fmt.render(feed, section, [shown])
        if fmt.name == "json":
            item = json.loads(body)["items"][0]
            text = json.dumps(item, ensure_ascii=False, indent=2)
        else:
            root = etree.fromstring(body)
            found = root.find("channel/item") if fmt.name == "rss" else None
            if fmt.name == "atom":
                found = root.find(f"{{{ATOM_NS}}}entry")
            text = _pretty(found if found is not None else root)
        out.append(Preview(fmt.label, text))
    newsml = etree.fromstring(render_news_item(partner, article, embargoed_view=True, now=now))
    out.append(Preview("NewsML-G2", _pretty(newsml)))
    held = article.status == PUBLISHED and article.release_at > now
    ninjs = render_ninjs_item(partner, article, held=held)
    out.append(Preview("ninjs", json.dumps(ninjs, ensure_ascii=False, indent=2)))
    return out
