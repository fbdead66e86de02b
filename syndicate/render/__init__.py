"""Feed renderers behind a tiny registry: pure `(ctx, section, articles) -> bytes` functions,
each a format's frame around its items (`fragments`).

Nothing here touches the store, files, aiohttp or the clock.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from syndicate.core.config import Section, Settings
from syndicate.core.model import PUBLISHED, Article
from syndicate.render import atom, jsonfeed, rss
from syndicate.render.context import EPOCH, FeedContext, article_id, feed_updated
from syndicate.render.fragments import (
    FragmentCache,
    FrameRenderer,
    ItemRenderer,
    assemble,
    assembler,
)

__all__ = [
    "EPOCH",
    "FORMATS",
    "FeedContext",
    "Fitted",
    "Format",
    "Renderer",
    "article_id",
    "feed_sections",
    "feed_updated",
    "fit",
    "fit_counted",
    "render_feed",
    "render_feed_counted",
    "summary_form",
]

Renderer = Callable[[FeedContext, Section, Sequence[Article]], bytes]


@dataclass(frozen=True, slots=True)
class Format:
    """One feed format: its name, the file it is published as, its media type, and how a
    document is written: one `item` an article (a function of the article and the feed's
    language), joined by `separator`, inside the `frame`."""

    name: str
    filename: str
    media_type: str
    item: ItemRenderer
    frame: FrameRenderer
    separator: bytes = b""
    label: str = ""  # what people call it: "RSS", "Atom", "JSON Feed"

    def render(self, ctx: FeedContext, section: Section, articles: Sequence[Article]) -> bytes:
        """The document of `articles` (newest first, already public and limited)."""
        return assemble(self, ctx, section, articles)


FORMATS: dict[str, Format] = {
    "rss": Format("rss", rss.FILENAME, rss.MEDIA_TYPE, rss.item, rss.frame, label="RSS"),
    "atom": Format("atom", atom.FILENAME, atom.MEDIA_TYPE, atom.item, atom.frame, label="Atom"),
    "json": Format(
        "json",
        jsonfeed.FILENAME,
        jsonfeed.MEDIA_TYPE,
        jsonfeed.item,
        jsonfeed.frame,
        jsonfeed.SEPARATOR,
        "JSON Feed",
    ),
}


@dataclass(frozen=True, slots=True)
class Fitted:
    """A rendered feed within its section's limits, and what had to give way."""

    body: bytes
    items: int
    # Ids of articles that alone exceed the byte budget: carried in summary form, or left out
    # when even that does not fit.
    shortened: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()
    # Articles this renderer fails on, with the error: quarantined, the rest still go out.
    failed: tuple[tuple[str, str], ...] = ()


def fit(
    renderer: Renderer, ctx: FeedContext, section: Section, articles: Sequence[Article]
) -> bytes:
    """The document of `fit_counted`, without the item count."""
    return fit_counted(renderer, ctx, section, articles).body


def fit_counted(
    renderer: Renderer, ctx: FeedContext, section: Section, articles: Sequence[Article]
) -> Fitted:
    """Render at most `section.limit` items and at most `section.max_bytes` bytes.

    `articles` come newest first, so the oldest are dropped until the document fits. The
    common case (it fits) costs one render; otherwise a binary search over the item count.
    An item too large for the budget on its own would push every other item out, newest
    first: it goes out in summary form instead (or not at all), and the rest of the feed stays.
    An empty feed is returned even if it alone exceeds the cap.
    """
    items = [a for a in articles if a.status == PUBLISHED][: section.limit]
    try:
        data = renderer(ctx, section, items)
    except Exception:
        # One record the renderer cannot take must not stop the feed for everyone: find it
        # (each alone), leave it out, and render the rest. When it fails on every one, the
        # renderer is what is broken: the error stands, and the last good feed is kept.
        kept, failed = _without_failing(renderer, ctx, section, items)
        if not kept:
            raise
        items = kept
        data = renderer(ctx, section, items)
    else:
        failed = ()
    if len(data) <= section.max_bytes or not items:
        return Fitted(data, len(items), failed=failed)
    items, shortened, left_out = _without_oversized(renderer, ctx, section, items)
    data = renderer(ctx, section, items)
    if len(data) <= section.max_bytes or not items:
        return Fitted(data, len(items), shortened, left_out, failed)
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
    if best is None or best[0] != low:
        best = low, renderer(ctx, section, items[:low])
    return Fitted(best[1], low, shortened, left_out, failed)


def _without_failing(
    renderer: Renderer, ctx: FeedContext, section: Section, items: list[Article]
) -> tuple[list[Article], tuple[tuple[str, str], ...]]:
    kept: list[Article] = []
    failed: list[tuple[str, str]] = []
    for article in items:
        try:
            renderer(ctx, section, [article])
        except Exception as exc:
            failed.append((article.id, f"{type(exc).__name__}: {exc}"))
        else:
            kept.append(article)
    return kept, tuple(failed)


def _without_oversized(
    renderer: Renderer, ctx: FeedContext, section: Section, items: list[Article]
) -> tuple[list[Article], tuple[str, ...], tuple[str, ...]]:
    """Replace each item that alone exceeds the budget by its summary form, or drop it."""
    kept: list[Article] = []
    shortened: list[str] = []
    left_out: list[str] = []
    for article in items:
        if len(renderer(ctx, section, [article])) <= section.max_bytes:
            kept.append(article)
            continue
        brief = summary_form(article)
        if len(renderer(ctx, section, [brief])) <= section.max_bytes:
            kept.append(brief)
            shortened.append(article.id)
        else:
            left_out.append(article.id)
    return kept, tuple(shortened), tuple(left_out)


def summary_form(article: Article) -> Article:
    """The article with its body replaced by its summary (or headline): a link to the story."""
    text = article.summary or article.headline
    return replace(article, body_html=f"<p>{html.escape(text, quote=False)}</p>")


def render_feed(
    name: str, ctx: FeedContext, section: Section, articles: Sequence[Article]
) -> bytes:
    """Render one format (`rss`, `atom`, `json`) for a section, within its limits."""
    return fit(FORMATS[name].render, ctx, section, articles)


def render_feed_counted(
    name: str,
    ctx: FeedContext,
    section: Section,
    articles: Sequence[Article],
    cache: FragmentCache | None = None,
) -> Fitted:
    """`render_feed` plus how many items made it in and which were shortened.

    With `cache`, the document is assembled from cached items and frames (the same bytes).
    """
    return fit_counted(assembler(FORMATS[name], cache), ctx, section, articles)


def feed_sections(settings: Settings) -> tuple[Section, ...]:
    """Every section that has feeds: the declared ones, then `all`."""
    return (*settings.sections, settings.all_section())
