"""Incremental rendering: a feed assembled from cached per-item fragments, byte for byte the
document a full render gives.

An item's bytes depend only on the article version, the context and the section. They do not
depend on its neighbours: lxml writes each element the same wherever it stands, and the
namespace declarations sit on the root. The document around the items (the frame: header
and footer) depends on the articles only through `feed_updated`, the newest `modified`. So:

- cold (many items unknown): one full render, cut into its frame and its items, all
  cached; the cut is checked by putting it back together, so it is exact or not used;
- warm: a missing frame is cut from a one-item render of the newest article (the same
  feed-level values as the whole list), which also gives that article's item: after a new
  story, one one-item render a format; other missing items from one-item renders each;
- document = frame before + every item in order + frame after.

After one article changes, a regeneration renders that article's items, not the other 49.
The cache is bounded (bytes, least recently used first). Its key is the article itself (a frozen
value: a new version is a new key), the context and the section, so a config change
misses rather than reuses. A new renderer version means a new process: the cache lives in
memory only.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from syndicate.core.config import Section
from syndicate.core.model import Article
from syndicate.render.context import FeedContext

Renderer = Callable[[FeedContext, Section, Sequence[Article]], bytes]

# Where the items sit in each format's bytes: (opening, closing), found in a one-item render.
# An opening tag may carry attributes (an Atom entry in another language has `xml:lang`).
MARKERS: dict[str, tuple[re.Pattern[bytes], bytes]] = {
    "rss": (re.compile(rb"<item[ >]"), b"</item>"),
    "atom": (re.compile(rb"<entry[ >]"), b"</entry>"),
    "json": (re.compile(rb'"items":\['), b"]}\n"),
}
SEPARATORS = {"rss": b"", "atom": b"", "json": b","}
_JSON_ITEM = re.compile(rb'\{"id":')
DEFAULT_BUDGET = 64 * 1024 * 1024  # bytes of fragments kept per process
# Up to this many missing items (or a quarter of the feed) are rendered one by one; more, and
# one full render cut into pieces is cheaper.
FEW = 4


class FragmentCache:
    """Rendered item fragments and frames, least recently used dropped past `budget` bytes."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Any, tuple[bytes, bytes, bytes]] = OrderedDict()

    def resize(self, budget: int) -> None:
        """A new budget; what no longer fits is dropped, oldest first."""
        self.budget = budget
        self._shrink()

    def _shrink(self) -> None:
        while self.size > self.budget and self._items:
            _, dropped = self._items.popitem(last=False)
            self.size -= sum(map(len, dropped))

    def get(self, key: Any) -> tuple[bytes, bytes, bytes] | None:
        found = self._items.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return found

    def put(self, key: Any, value: tuple[bytes, bytes, bytes]) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= sum(map(len, old))
        self._items[key] = value
        self.size += sum(map(len, value))
        self._shrink()

    def __len__(self) -> int:
        return len(self._items)


def _split(name: str, document: bytes) -> tuple[bytes, list[bytes], bytes] | None:
    """(before, the items, after) of a document, or None if it cannot be cut exactly.

    Text in these documents is escaped, so a marker can only be a real tag (or, in JSON, the
    real key); the cut is checked by putting the pieces back together.
    """
    opening, closing = MARKERS[name]
    found = opening.search(document)
    if found is None:
        return None
    if name == "json":
        start, end = found.end(), document.rindex(closing)
        body = document[start:end]
        # Items are JSON objects one after another; json.dumps writes them without spaces.
        items = _json_objects(body)
    else:
        start, end = found.start(), document.rindex(closing) + len(closing)
        body = document[start:end]
        cut = [m.start() for m in opening.finditer(body)] + [len(body)]
        items = [body[cut[n] : cut[n + 1]] for n in range(len(cut) - 1)]
    before, after = document[:start], document[end:]
    if before + SEPARATORS[name].join(items) + after != document:
        return None
    return before, items, after


def _json_objects(body: bytes) -> list[bytes]:
    """The items of `{"id":..},{"id":..}`, cut where each begins.

    Inside a JSON string every `"` is escaped, so the bytes `{"id":` only appear where an
    object whose first key is `id` begins: in a JSON Feed's `items` only the items do (their
    nested objects, authors and the `_syndicate` extension, have no `id`). The caller checks
    the cut by putting the pieces back together. A scan byte by byte in Python, tracking
    strings, cost ~45 ms a 50-item feed: most of a cold pass.
    """
    starts = [m.start() for m in _JSON_ITEM.finditer(body)]
    ends = [n - 1 for n in starts[1:]] + [len(body)]  # each ends before the next one's comma
    return [body[a:b] for a, b in zip(starts, ends, strict=True)]


def assemble(
    name: str,
    renderer: Renderer,
    ctx: FeedContext,
    section: Section,
    articles: Sequence[Article],
    cache: FragmentCache,
) -> bytes:
    """`renderer(ctx, section, articles)`, from cached fragments where it can."""
    if not articles:
        return renderer(ctx, section, articles)
    # Sections hold dicts (titles by language): their repr is the stable, hashable key. The
    # renderer itself is part of it: another renderer's fragments are never reused.
    where = (name, renderer, ctx, repr(section))
    # The frame depends on the articles only through the newest `modified`.
    frame_key = (where, "frame", max(a.modified for a in articles))
    frame = cache.get(frame_key)
    items = [cache.get((where, a)) for a in articles]
    missing = sum(1 for item in items if item is None)
    if missing > max(FEW, len(articles) // 4):
        # Many to render (a cold start, a new section): one full render, cut into pieces.
        document = renderer(ctx, section, articles)
        pieces = _split(name, document)
        if pieces is not None and len(pieces[1]) == len(articles):
            before, cut, after = pieces
            cache.put(frame_key, (before, b"", after))
            for article, item in zip(articles, cut, strict=True):
                cache.put((where, article), (b"", item, b""))
        return document
    if frame is None:
        # A one-item document of the newest article carries the frame, and that item (a new
        # story is usually the newest: one small render gives both).
        n = max(range(len(articles)), key=lambda i: articles[i].modified)
        one = _split(name, renderer(ctx, section, [articles[n]]))
        if one is None or len(one[1]) != 1:
            return renderer(ctx, section, articles)
        frame = (one[0], b"", one[2])
        cache.put(frame_key, frame)
        if items[n] is None:
            items[n] = fragment = (b"", one[1][0], b"")
            cache.put((where, articles[n]), fragment)
    for n, known in enumerate(items):
        if known is None:
            one = _split(name, renderer(ctx, section, [articles[n]]))
            if one is None or len(one[1]) != 1:
                return renderer(ctx, section, articles)
            items[n] = fragment = (b"", one[1][0], b"")
            cache.put((where, articles[n]), fragment)
    return frame[0] + SEPARATORS[name].join(i[1] for i in items if i) + frame[2]


def incremental(name: str, renderer: Renderer, cache: FragmentCache) -> Renderer:
    """A renderer with the same bytes as `renderer`, assembled from `cache`."""

    def render(ctx: FeedContext, section: Section, articles: Sequence[Article]) -> bytes:
        return assemble(name, renderer, ctx, section, articles, cache)

    return render
