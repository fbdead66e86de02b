"""A feed document from its pieces, and a bounded cache of those pieces.

Every reader format is written as a frame (the document around its items) and one item per
article; the document is frame before + items joined by the format's separator + frame
after, with or without a cache: the bytes cannot differ. The pieces' inputs are their keys:

- an item is a function of the article and the feed's language only (no context, no
  section), so one rendering serves every feed it is in: an article in two sections of one
  language, on one worker, is written once;
- a frame is a function of the context, the section (its links included) and the newest
  article's `modified` (`feed_updated`) only.

After one article changes, a regeneration writes that article's items and a frame, not the
other 49 items. The cache is bounded (bytes, least recently used first). An article is a
frozen value (a new version is a new key); a config change is a new context or section and
misses; a new renderer version means a new process: the cache lives in memory only. The
item and frame functions are part of the keys, so another renderer's pieces are never used.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from syndicate.core.config import Section
from syndicate.core.model import Article
from syndicate.render.context import FeedContext, feed_updated

DEFAULT_BUDGET = 64 * 1024 * 1024  # bytes of fragments kept per process

ItemRenderer = Callable[[Article, str], bytes]
FrameRenderer = Callable[[FeedContext, Section, datetime], tuple[bytes, bytes]]
Fragment = bytes | tuple[bytes, bytes]  # an item, or a frame's (before, after)


def _size(fragment: Fragment) -> int:
    return len(fragment) if isinstance(fragment, bytes) else len(fragment[0]) + len(fragment[1])


class Pieces(Protocol):
    """What a document is made of: a format's item and frame functions and its separator."""

    @property
    def item(self) -> ItemRenderer: ...

    @property
    def frame(self) -> FrameRenderer: ...

    @property
    def separator(self) -> bytes: ...


class FragmentCache:
    """Rendered items and frames, least recently used dropped past `budget` bytes."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Any, Fragment] = OrderedDict()

    def resize(self, budget: int) -> None:
        """A new budget; what no longer fits is dropped, oldest first."""
        self.budget = budget
        self._shrink()

    def _shrink(self) -> None:
        while self.size > self.budget and self._items:
            _, dropped = self._items.popitem(last=False)
            self.size -= _size(dropped)

    def get(self, key: Any) -> Fragment | None:
        found = self._items.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return found

    def put(self, key: Any, value: Fragment) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= _size(old)
        self._items[key] = value
        self.size += _size(value)
        self._shrink()

    def __len__(self) -> int:
        return len(self._items)


def assemble(
    fmt: Pieces,
    ctx: FeedContext,
    section: Section,
    articles: Sequence[Article],
    cache: FragmentCache | None = None,
) -> bytes:
    """The document of `articles` (newest first, already limited), pieces from `cache`."""
    language = section.language
    updated = feed_updated(articles)
    if cache is None:
        items = [fmt.item(a, language) for a in articles]
        frame = fmt.frame(ctx, section, updated)
    else:
        items = [_cached_item(fmt.item, a, language, cache) for a in articles]
        # Sections hold dicts (titles by language): their repr is the stable, hashable key.
        frame_key = (fmt.frame, ctx, repr(section), updated)
        found = cache.get(frame_key)
        if isinstance(found, tuple):
            frame = found
        else:
            frame = fmt.frame(ctx, section, updated)
            cache.put(frame_key, frame)
    return frame[0] + fmt.separator.join(items) + frame[1]


def _cached_item(
    item: ItemRenderer, article: Article, language: str, cache: FragmentCache
) -> bytes:
    key = (item, article, language)
    found = cache.get(key)
    if isinstance(found, bytes):
        return found
    made = item(article, language)
    cache.put(key, made)
    return made


def assembler(
    fmt: Pieces, cache: FragmentCache | None
) -> Callable[[FeedContext, Section, Sequence[Article]], bytes]:
    """`fmt`'s renderer, `(ctx, section, articles) -> bytes`, its pieces kept in `cache`."""

    def render(ctx: FeedContext, section: Section, articles: Sequence[Article]) -> bytes:
        return assemble(fmt, ctx, section, articles, cache)

    return render
