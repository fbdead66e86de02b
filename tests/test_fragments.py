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


def test_one_changed_article_renders_one_item_and_reuses_the_rest() -> None:
    cache = FragmentCache()
    ctx, section = context(), hindi_section()
    items = POOL[:20]
    rendered: list[int] = []  # how many articles each renderer call was given

    def counting(name: str) -> Any:
        def render(ctx: Any, section: Any, articles: Any) -> bytes:
            rendered.append(len(articles))
            return FORMATS[name].render(ctx, section, articles)

        return render

    renderers = {name: counting(name) for name in FORMATS}
    for name in FORMATS:
        assemble(name, renderers[name], ctx, section, items, cache)
    assert rendered == [20, 20, 20]  # cold: one full render a format, cut into pieces
    rendered.clear()
    changed = [_newer(items[0], 1), *items[1:]]
    for name in FORMATS:
        pieced = assemble(name, renderers[name], ctx, section, changed, cache)
        assert pieced == FORMATS[name].render(ctx, section, changed)
    # The changed article alone (its item, and the frame its new `modified` makes).
    assert sum(rendered) <= 2 * 3 and set(rendered) == {1}
    rendered.clear()
    # A new story, the newest of all (the timer's common case): one one-item render a format
    # gives both the new frame and its item.
    story = _newer(POOL[25], 100)
    added = [story, *changed[:-1]]
    assert story.modified > max(a.modified for a in changed)
    for name in FORMATS:
        pieced = assemble(name, renderers[name], ctx, section, added, cache)
        assert pieced == FORMATS[name].render(ctx, section, added)
    assert rendered == [1, 1, 1]
    rendered.clear()
    # A configuration change (another context) reuses nothing.
    assemble("rss", renderers["rss"], context(base_url="https://other.example"), section,
             items, cache)  # fmt: skip
    assert rendered == [20]


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


def test_text_that_looks_like_markup_or_an_item_start_is_cut_exactly() -> None:
    # The cut looks for where items begin (`<item`, `<entry`, `{"id":`); text may hold those
    # very characters, escaped, and must neither split an item nor hide one.
    tricky = '{"id":"x"},{"id":"y"} </item><item> </entry><entry> "items":[ ]}\n \\"'
    articles = [
        dataclasses.replace(a, headline=f"{a.headline} {tricky}", body_html=f"<p>{tricky}</p>")
        for a in POOL[:6]
    ]
    ctx, section = context(), hindi_section()
    for name in FORMATS:
        cache = FragmentCache()
        full = FORMATS[name].render(ctx, section, articles)
        assert assemble(name, FORMATS[name].render, ctx, section, articles, cache) == full
        # The cold render was cut into its items (else nothing could be reused).
        assert len(cache) == len(articles) + 1, name
        changed = [_newer(articles[2], 1) if n == 2 else a for n, a in enumerate(articles)]
        pieced = assemble(name, FORMATS[name].render, ctx, section, changed, cache)
        assert pieced == FORMATS[name].render(ctx, section, changed), name
