"""Incremental rendering gives the very bytes of a full render, over generated stores and
sequences of changes (hypothesis), in every format, with and without the byte budget."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.bench import corpus
from syndicate.core.model import Article
from syndicate.render import FORMATS, render_feed_counted
from syndicate.render.fragments import FragmentCache, assemble
from syndicate.validate import validate_record
from tests.helpers.feeds import articles as fixture_articles
from tests.helpers.feeds import context, hindi_section
from tests.helpers.settings import build_settings

SETTINGS = build_settings(sections={s: {"title": s} for s in corpus.SECTIONS[:3]})
POOL = [
    Article.from_record(validate_record(r, SETTINGS), version=1)
    for r in (corpus.article(random.Random(n), n, corpus.SECTIONS[:3]) for n in range(30))
] + fixture_articles()
CONTEXTS = [context(), context(websub_hub=None), context(stylesheet="/feeds/style.xsl")]
SECTIONS = [hindi_section(), hindi_section(language="en", max_bytes=40_000, limit=12)]


def _newer(article: Article, n: int) -> Article:
    """The next version: new headline and a later `modified`."""
    return dataclasses.replace(
        article,
        version=article.version + 1,
        headline=f"{article.headline} (update {n})",
        updated=article.modified + timedelta(minutes=n + 1),
    )


CHANGE = st.tuples(st.sampled_from(["update", "add", "drop", "shuffle"]), st.integers(0, 10**6))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.lists(st.sampled_from(range(len(POOL))), min_size=0, max_size=15, unique=True),
    changes=st.lists(CHANGE, max_size=8),
    ctx_n=st.integers(0, len(CONTEXTS) - 1),
    section_n=st.integers(0, len(SECTIONS) - 1),
)
def test_incremental_bytes_equal_a_full_render_through_any_changes(
    start: list[int], changes: list[tuple[str, int]], ctx_n: int, section_n: int
) -> None:
    cache = FragmentCache()
    ctx, section = CONTEXTS[ctx_n], SECTIONS[section_n]
    current = [POOL[i] for i in start]
    for step, (what, seed) in enumerate([("none", 0), *changes]):
        rng = random.Random(seed)
        if what == "update" and current:
            n = rng.randrange(len(current))
            current[n] = _newer(current[n], step)
        elif what == "add":
            current.insert(rng.randrange(len(current) + 1), POOL[rng.randrange(len(POOL))])
        elif what == "drop" and current:
            current.pop(rng.randrange(len(current)))
        elif what == "shuffle":
            rng.shuffle(current)
        for name in FORMATS:
            full = render_feed_counted(name, ctx, section, current)
            pieced = render_feed_counted(name, ctx, section, current, cache)
            assert pieced == full, (name, step, what)


class Counting:
    """A format whose items and frames are counted as they are written."""

    def __init__(self, name: str) -> None:
        self.real = FORMATS[name]
        self.items: list[str] = []  # the ids of the articles written
        self.frames = 0
        self.fmt = dataclasses.replace(self.real, item=self._item, frame=self._frame)

    def _item(self, article: Article, language: str) -> bytes:
        self.items.append(article.id)
        return self.real.item(article, language)

    def _frame(self, ctx: Any, section: Any, updated: Any) -> tuple[bytes, bytes]:
        self.frames += 1
        return self.real.frame(ctx, section, updated)

    def clear(self) -> None:
        self.items.clear()
        self.frames = 0


def test_one_changed_article_renders_one_item_and_reuses_the_rest() -> None:
    cache = FragmentCache()
    ctx, section = context(), hindi_section()
    items = POOL[:20]
    formats = {name: Counting(name) for name in FORMATS}
    for c in formats.values():
        assert assemble(c.fmt, ctx, section, items, cache) == c.real.render(ctx, section, items)
        assert (len(c.items), c.frames) == (20, 1)  # cold: every item, and the frame
        c.clear()
    changed = [_newer(items[0], 1), *items[1:]]
    for c in formats.values():
        pieced = assemble(c.fmt, ctx, section, changed, cache)
        assert pieced == c.real.render(ctx, section, changed)
        # The changed article alone, and the frame only if its new `modified` is the newest.
        assert c.items == [items[0].id] and c.frames <= 1
        c.clear()
    # A new story, the newest of all (the timer's common case): its item and a new frame.
    story = _newer(POOL[25], 100)
    added = [story, *changed[:-1]]
    assert story.modified > max(a.modified for a in changed)
    for c in formats.values():
        assert assemble(c.fmt, ctx, section, added, cache) == c.real.render(ctx, section, added)
        assert (c.items, c.frames) == ([story.id], 1)
        c.clear()
    # A configuration change (another context) is a new frame; the items do not depend on
    # the context, and are reused.
    other = context(base_url="https://other.example")
    for c in formats.values():
        pieced = assemble(c.fmt, other, section, items, cache)
        assert pieced == c.real.render(other, section, items)
        assert (c.items, c.frames) == ([], 1)
        assert b"https://other.example/feeds/" in pieced


def test_an_article_in_two_feeds_of_one_language_is_written_once() -> None:
    # Most stories are in a section and in `all` (and many in two sections): on the worker
    # that renders both, the second feed reuses the first one's items.
    cache = FragmentCache()
    ctx = context()
    hindi, also_hindi = hindi_section(), hindi_section(slug="top-story", title={"hi": "मुख्य"})
    english = hindi_section(slug="world", language="en")
    shared = POOL[:10]
    formats = {name: Counting(name) for name in FORMATS}
    for c in formats.values():
        for section in (hindi, also_hindi):
            pieced = assemble(c.fmt, ctx, section, shared, cache)
            assert pieced == c.real.render(ctx, section, shared)
        assert (len(c.items), c.frames) == (10, 2)
        c.clear()
        # Another language is another item (an article in another language says so).
        pieced = assemble(c.fmt, ctx, english, shared, cache)
        assert pieced == c.real.render(ctx, english, shared)
        assert (len(c.items), c.frames) == (10, 1)


def test_the_cache_stays_within_its_budget() -> None:
    cache = FragmentCache(budget=200_000)
    for name in FORMATS:
        render_feed_counted(name, context(), hindi_section(), POOL, cache)
    assert 0 < cache.size <= 200_000 and len(cache) < 3 * len(POOL)


def test_a_new_prev_archive_link_renders_a_new_frame() -> None:
    # The link reaches the renderer through its section, so the frame's key covers it: a feed
    # whose newest archive page moved on is never assembled from the old frame.
    from syndicate.pipeline.archive import as_feed_section
    from syndicate.render.documents import ArchiveLinks

    cache = FragmentCache()
    ctx, items = context(), POOL[:10]
    for page in (3, 4, 4, None, 3):
        links = ArchiveLinks(prev=page) if page else None
        section = as_feed_section(hindi_section(), archive=links)
        for name in FORMATS:
            pieced = render_feed_counted(name, ctx, section, items, cache)
            assert pieced == render_feed_counted(name, ctx, section, items), (name, page)
            wanted = f"/archive/{page}/".encode() if page else b"/archive/"
            assert (wanted in pieced.body) == bool(page), (name, page)
