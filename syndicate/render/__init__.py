"""Feed renderers behind a tiny registry: pure `(ctx, section, articles) -> bytes` functions.

Only this package imports feedgen. Nothing here touches the store, files, aiohttp or the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from syndicate.config import Section, Settings
from syndicate.model import PUBLISHED, Article
from syndicate.render import atom, jsonfeed, rss
from syndicate.render.context import EPOCH, FeedContext, article_id, feed_updated

__all__ = [
    "EPOCH",
    "FORMATS",
    "FeedContext",
    "Format",
    "Renderer",
    "article_id",
    "feed_sections",
    "feed_updated",
    "fit",
    "fit_counted",
    "render_feed",
    "render_feed_counted",
]

Renderer = Callable[[FeedContext, Section, Sequence[Article]], bytes]


@dataclass(frozen=True, slots=True)
class Format:
    """One feed format: its name, the file it is published as, its media type, its renderer."""

    name: str
    filename: str
    media_type: str
    render: Renderer
    label: str = ""  # what people call it: "RSS", "Atom", "JSON Feed"


FORMATS: dict[str, Format] = {
    "rss": Format("rss", rss.FILENAME, rss.MEDIA_TYPE, rss.render, "RSS"),
    "atom": Format("atom", atom.FILENAME, atom.MEDIA_TYPE, atom.render, "Atom"),
    "json": Format("json", jsonfeed.FILENAME, jsonfeed.MEDIA_TYPE, jsonfeed.render, "JSON Feed"),
}


def fit(
    renderer: Renderer, ctx: FeedContext, section: Section, articles: Sequence[Article]
) -> bytes:
    """The document of `fit_counted`, without the item count."""
    return fit_counted(renderer, ctx, section, articles)[0]


def fit_counted(
    renderer: Renderer, ctx: FeedContext, section: Section, articles: Sequence[Article]
) -> tuple[bytes, int]:
    """Render at most `section.limit` items and at most `section.max_bytes` bytes.

    `articles` come newest first, so the oldest are dropped until the document fits. The
    common case (it fits) costs one render; otherwise a binary search over the item count.
    An empty feed is returned even if it alone exceeds the cap.
    """
    items = [a for a in articles if a.status == PUBLISHED][: section.limit]
    data = renderer(ctx, section, items)
    if len(data) <= section.max_bytes or not items:
        return data, len(items)
    # The largest count that fits lies in [low, high]; `high` items are known not to fit.
    low, high = 0, len(items) - 1
    best: tuple[int, bytes] | None = None
    while low < high:
        middle = (low + high + 1) // 2
        candidate = renderer(ctx, section, items[:middle])
        if len(candidate) <= section.max_bytes:
            low, best = middle, (middle, candidate)
        else:
            high = middle - 1
    if best is not None and best[0] == low:
        return best[1], low
    return renderer(ctx, section, items[:low]), low


def render_feed(
    name: str, ctx: FeedContext, section: Section, articles: Sequence[Article]
) -> bytes:
    """Render one format (`rss`, `atom`, `json`) for a section, within its limits."""
    return fit(FORMATS[name].render, ctx, section, articles)


def render_feed_counted(
    name: str, ctx: FeedContext, section: Section, articles: Sequence[Article]
) -> tuple[bytes, int]:
    """`render_feed` plus how many items made it in."""
    return fit_counted(FORMATS[name].render, ctx, section, articles)


def feed_sections(settings: Settings) -> tuple[Section, ...]:
    """Every section that has feeds: the declared ones, then `all`."""
    return (*settings.sections, settings.all_section())
