"""What a process serves is the render of the newest store state it has seen, whatever order
its own runs and its loads of other processes' saves finish in.

CI caught a follower serving an older feed for good: its own run, which had saved the older
state, put its render in after the load of the newer one (PostgreSQL, ~1 round in 200 of
`test_pg_render_order`). These tests make both orders happen on purpose.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from syndicate.core.model import FeedDocument
from syndicate.pipeline.regenerate import Regenerator
from syndicate.pipeline.render_pool import RenderPool
from syndicate.pipeline.served import FeedCache, ServedFeed
from syndicate.store.sqlite import SQLiteStore
from tests.helpers.records import live_record
from tests.helpers.settings import build_settings

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
# A state's bytes: some states look alike (a change that leaves this feed as it was).
BODIES = [b"<rss>one</rss>", b"<rss>two</rss>", b"<rss>three</rss>"]


def _doc(seq: int) -> FeedDocument:
    return FeedDocument("sport", "rss.xml", BODIES[seq % 3], NOW, seq)


class ServingOrder(RuleBasedStateMachine):
    """Renders and loads of any states arrive in any order; the newest state's bytes stay."""

    def __init__(self) -> None:
        super().__init__()
        self.cache = FeedCache()
        self.newest = -1

    @rule(seq=st.integers(0, 30))
    def a_run_here_finishes(self, seq: int) -> None:
        doc = _doc(seq)
        self.cache.put_served(ServedFeed.rendered(doc, f'"{seq}"', None))
        self.newest = max(self.newest, seq)

    @rule(seq=st.integers(0, 30))
    def a_save_elsewhere_is_loaded(self, seq: int) -> None:
        self.cache.put(_doc(seq))
        self.newest = max(self.newest, seq)

    @precondition(lambda self: self.newest >= 0)
    @invariant()
    def the_newest_state_is_served(self) -> None:
        served = self.cache.get("sport", "rss.xml")
        assert served is not None
        assert served.body == _doc(self.newest).body
        assert served.seq == self.newest


TestServingOrder = ServingOrder.TestCase
TestServingOrder.settings = settings(max_examples=200, stateful_step_count=15, deadline=None)


async def _site(tmp_path: Path) -> tuple[Regenerator, SQLiteStore]:
    settings_ = build_settings(feeds_dir=str(tmp_path / "feeds"))
    store = SQLiteStore(f"sqlite:///{tmp_path / 's.db'}")
    await store.open()
    await store.put(live_record("first", sections=["sport"]), now=datetime.now(UTC))
    return Regenerator(settings_, store, FeedCache(), pool=RenderPool(0)), store


async def test_a_newer_state_loaded_while_a_run_saves_the_older_stays_served(
    tmp_path: Path,
) -> None:
    regenerator, store = await _site(tmp_path)
    try:
        newer: list[FeedDocument] = []
        real_save = store.save_feeds

        async def save_then_hear_of_a_newer_one(docs: list[FeedDocument]) -> Any:
            saved = await real_save(docs)
            # Meanwhile another process saved a newer state, and this one loaded it.
            for doc in docs:
                newer.append(FeedDocument(doc.section, doc.name, b"newer", doc.generated, 10**6))
            for doc in newer:
                regenerator._pipeline.cache.put(doc)
            return saved

        store.save_feeds = save_then_hear_of_a_newer_one  # type: ignore[method-assign]
        (result,) = await regenerator.regenerate(["sport"])
        assert result.error is None and newer
        for doc in newer:
            served = regenerator.served("sport", doc.name)
            assert served is not None and served.body == b"newer"
            # The feeds folder is this process's copy of what it serves.
            assert (tmp_path / "feeds" / "sport" / doc.name).read_bytes() == b"newer"
    finally:
        await store.close()


async def test_a_load_keeps_its_newer_state_over_an_older_run_put_in_meanwhile(
    tmp_path: Path,
) -> None:
    regenerator, store = await _site(tmp_path)
    try:
        await regenerator.regenerate(["sport"])
        pipeline = regenerator._pipeline
        older = regenerator.served("sport", "rss.xml")
        assert older is not None
        loaded = FeedDocument("sport", "rss.xml", b"<rss>newer</rss>", NOW, older.seq + 5)
        real_call = pipeline.pool.call

        async def compress_while_a_run_finishes(fn: Any, *args: Any) -> Any:
            # A run here that read an older state puts its render in while the load compresses.
            pipeline.cache.put_served(
                ServedFeed.rendered(
                    FeedDocument("sport", "rss.xml", b"<rss>older</rss>", NOW, older.seq + 1),
                    '"older"',
                    None,
                )
            )
            return await real_call(fn, *args)

        pipeline.pool.call = compress_while_a_run_finishes  # type: ignore[method-assign]
        served, new = await pipeline._loaded(loaded)
        assert served.body == b"<rss>newer</rss>" and new
        now = regenerator.served("sport", "rss.xml")
        assert now is not None and now.body == b"<rss>newer</rss>"
        # A load of an older state than the one served changes nothing.
        stale = FeedDocument("sport", "rss.xml", b"<rss>stale</rss>", NOW, older.seq + 2)
        served, new = await pipeline._loaded(stale)
        assert served.body == b"<rss>newer</rss>" and not new
    finally:
        await store.close()
