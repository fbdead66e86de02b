"""Previews for the editors' desk: one article's item as each reader feed and partner format
would carry it. Pure, like every renderer: the same functions the feeds use, one item cut out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from lxml import etree

from syndicate.core.config import Section
from syndicate.core.model import PUBLISHED, Article
from syndicate.render import FORMATS, FeedContext, Format
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
    held = article.status == PUBLISHED and article.release_at > now
    makers: list[tuple[str, Callable[[], str]]] = [
        *((fmt.label, _feed_item(fmt, feed, section, shown)) for fmt in FORMATS.values()),
        (
            "NewsML-G2",
            lambda: _pretty(
                etree.fromstring(render_news_item(partner, article, embargoed_view=True, now=now))
            ),
        ),
        (
            "ninjs",
            lambda: json.dumps(
                render_ninjs_item(partner, article, held=held), ensure_ascii=False, indent=2
            ),
        ),
    ]
    out: list[Preview] = []
    for label, make in makers:
        try:
            out.append(Preview(label, make()))
        except Exception as exc:
            # What the feeds would do too: leave the one article out, and say why.
            out.append(Preview(label, f"This format cannot carry the article: {exc}"))
    return out


def _feed_item(
    fmt: Format, feed: FeedContext, section: Section, article: Article
) -> Callable[[], str]:
    def make() -> str:
        body = fmt.render(feed, section, [article])
        if fmt.name == "json":
            return json.dumps(json.loads(body)["items"][0], ensure_ascii=False, indent=2)
        root = etree.fromstring(body)
        found = (
            root.find(f"{{{ATOM_NS}}}entry") if fmt.name == "atom" else root.find("channel/item")
        )
        return _pretty(found if found is not None else root)

    return make
