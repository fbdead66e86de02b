"""Rendering in worker processes: the same bytes as rendering in-process, and a worker that
crashes or hangs is one section's error (last good feeds kept), never a stalled service."""

from __future__ import annotations

import asyncio
import gc
import gzip
import itertools
import json
import os
import random
import signal
import threading
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import brotli
import pytest

from syndicate.bench import corpus
from syndicate.core.compression import gzip_fast
from syndicate.core.config import ALL_SECTION, Settings
from syndicate.core.model import FeedDocument
from syndicate.pipeline import archive
from syndicate.pipeline.publish import gzip_bytes
from syndicate.pipeline.regenerate import Regenerator
from syndicate.pipeline.regenerate import pipeline as pipeline_module
from syndicate.pipeline.render_pool import RenderFailed, RenderPool, render_section
from syndicate.pipeline.served import FeedCache, ServedFeed
from syndicate.render import FeedContext
from syndicate.store.sqlite import SQLiteStore
from syndicate.validate import validate_record
from syndicate.web.keys import REGENERATOR
from tests.helpers import render_faults
from tests.helpers.clients import running_app
from tests.helpers.processes import child_env, free_port, serving, wait_for_log
from tests.helpers.records import live_record
from tests.helpers.settings import build_settings, config_toml
from tests.helpers.tokens import editor_header
from tests.helpers.waiting import wait_until, wait_until_sync

SECTIONS = {s: {"title": s} for s in corpus.SECTIONS[:4]}


def _settings(tmp_path: Path) -> Settings:
    return build_settings(sections=SECTIONS, feeds_dir=str(tmp_path / "feeds"))


async def _store(tmp_path: Path, settings: Settings, count: int = 120) -> SQLiteStore:
    store = SQLiteStore(f"sqlite:///{tmp_path / 's.db'}")
    await store.open()
    sections = tuple(SECTIONS)
    records = [
        validate_record(r, settings)
        for r in (corpus.article(random.Random(n), n, sections) for n in range(count))
    ]
    await store.put_many(records, now=datetime.now(UTC))
    return store


async def _tick(ticks: list[float]) -> None:
    while True:
        ticks.append(time.monotonic())
        await asyncio.sleep(0.01)


def _bytes(cache: FeedCache, settings: Settings) -> dict[tuple[str, str], tuple[bytes, str]]:
    out = {}
    for slug in (*settings.section_slugs, "all"):
        for name in ("rss.xml", "atom.xml", "feed.json"):
            served = cache.get(slug, name)
            assert served is not None, (slug, name)
            out[(slug, name)] = (served.body, served.etag)
    return out


async def test_workers_render_the_same_bytes_as_the_loop(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = await _store(tmp_path, settings)
    pool = RenderPool(1)
    try:
        here, there = FeedCache(), FeedCache()
        in_process = Regenerator(settings, store, here, pool=RenderPool(0))
        in_workers = Regenerator(settings, store, there, pool=pool)
        for regenerator in (in_process, in_workers):
            results = await regenerator.regenerate()
            assert all(r.error is None for r in results), [r.error for r in results]
        assert _bytes(here, settings) == _bytes(there, settings)
        for slug in settings.section_slugs:
            served = there.get(slug, "rss.xml")
            assert served is not None and gzip.decompress(served.gzip) == served.body
    finally:
        pool.close()
        await store.close()


@asynccontextmanager
async def _site(
    tmp_path: Path, workers: int, count: int = 60
) -> AsyncIterator[tuple[Settings, SQLiteStore, Regenerator]]:
    """Settings, a filled store and a regenerator with a pool of `workers`, closed after."""
    settings = _settings(tmp_path)
    store = await _store(tmp_path, settings, count=count)
    regenerator = Regenerator(settings, store, FeedCache(), pool=RenderPool(workers))
    try:
        yield settings, store, regenerator
    finally:
        regenerator.pool.close()
        await store.close()


async def test_a_changed_feed_is_served_with_a_fast_gzip_then_the_small_copies(
    tmp_path: Path,
) -> None:
    # The fast copy goes out with the render; the smaller gzip and the brotli copy follow in
    # the background, in memory and in the feeds folder alike, for the same body and ETag.
    async with _site(tmp_path, workers=1) as (settings, _, regenerator):
        assert all(r.error is None for r in await regenerator.regenerate(["all"]))
        first = regenerator.served("all", "rss.xml")
        assert first is not None and first.gzip == gzip_fast(first.body) and first.br is None
        await regenerator.settle()
        small = regenerator.served("all", "rss.xml")
        assert small is not None and (small.body, small.etag) == (first.body, first.etag)
        assert small.gzip == gzip_bytes(small.body) and len(small.gzip) < len(first.gzip)
        assert small.br is not None and brotli.decompress(small.br) == small.body
        folder = settings.feeds_dir / "all"
        assert (folder / "rss.xml.gz").read_bytes() == small.gzip
        assert (folder / "rss.xml.br").read_bytes() == small.br


async def test_small_copies_wait_until_no_run_is_in_progress(tmp_path: Path) -> None:
    # Queued in the workers while a pass still had sections to render, they held those up.
    async with _site(tmp_path, workers=1) as (_, _, regenerator):
        pipeline = regenerator._pipeline
        started: list[tuple[int, int]] = []  # (runs in progress, documents) at each start
        make = pipeline._add_small_copies

        async def watched(documents: list[ServedFeed]) -> None:
            started.append((pipeline._runs_in_progress, len(documents)))
            await make(documents)

        pipeline._add_small_copies = watched  # type: ignore[method-assign]
        results = await regenerator.regenerate()
        assert all(r.error is None for r in results)
        await regenerator.settle()
        # Once, after the last run, for every document the pass changed.
        assert started == [(0, 3 * len(results))]


async def test_a_follower_serves_what_it_loads_at_once_and_compresses_it_in_a_worker_after(
    tmp_path: Path,
) -> None:
    # A follower loads the leader's feeds while it answers readers. It serves them at once
    # with the fast gzip copy the store keeps: made first, in a worker that yields to readers,
    # the copies held a newer feed back for seconds on a busy follower. The small copies
    # follow in a worker, once per new body; with no worker to make them, the fast copy stays.
    async with _site(tmp_path, workers=0, count=40) as (settings, store, leader):
        await leader.regenerate()
        for broken in (False, True):
            pool = RenderPool(1)
            calls: list[str] = []
            call = pool.call
            held = asyncio.Event()

            async def counted(
                fn: Any,
                *args: Any,
                broken: bool = broken,
                calls: list[str] = calls,
                call: Any = call,
                held: asyncio.Event = held,
            ) -> Any:
                await held.wait()  # the worker busy elsewhere
                calls.append(fn.__name__)
                if broken:
                    raise RenderFailed("a renderer worker died")
                return await call(fn, *args)

            pool.call = counted  # type: ignore[method-assign]
            follower = Regenerator(settings, store, FeedCache(), pool=pool)
            try:
                loaded = await asyncio.wait_for(follower.load_published(), 10)
                assert loaded == 3 * (len(settings.section_slugs) + 1)
                served = follower.served("all", "atom.xml")
                assert served is not None and served.gzip == gzip_fast(served.body)
                folder = settings.feeds_dir / "all"
                assert (folder / "atom.xml").read_bytes() == served.body
                held.set()
                await follower.settle()
                assert calls == ["small_copies"] * loaded
                served = follower.served("all", "atom.xml")
                assert served is not None
                if broken:
                    assert served.gzip == gzip_fast(served.body) and served.br is None
                else:
                    assert served.gzip == gzip_bytes(served.body)
                    assert served.br is not None and brotli.decompress(served.br) == served.body
                    assert (folder / "atom.xml.br").read_bytes() == served.br
                calls.clear()
                assert await follower.load_published() == loaded
                await follower.settle()
                # The same bodies, served already: nothing compressed again (with no worker,
                # the fast copy stays until the feed changes, as after a run here).
                assert calls == []
            finally:
                pool.close()


async def test_hearing_its_own_save_compresses_nothing_twice(tmp_path: Path) -> None:
    # On PostgreSQL a process hears its own saves and loads them: the run's small copies are
    # under way, and the load of the same bytes asked for them again (~11 ms a feed).
    async with _site(tmp_path, workers=0, count=20) as (_, _, regenerator):
        held, calls = asyncio.Event(), []
        call = regenerator.pool.call

        async def counted(fn: Any, *args: Any) -> Any:
            calls.append(fn.__name__)
            await held.wait()
            return await call(fn, *args)

        regenerator.pool.call = counted  # type: ignore[method-assign]
        (result,) = await regenerator.regenerate(["all"])
        assert result.error is None and result.changed
        await regenerator.load_published("all")  # the run's own save, heard
        held.set()
        await regenerator.settle()
        assert calls == ["small_copies"] * 3
        served = regenerator.served("all", "rss.xml")
        assert served is not None and served.br is not None


async def test_a_newer_load_is_never_undone_by_an_older_one_that_finishes_first(
    tmp_path: Path,
) -> None:
    # Two notices of saves elsewhere, two loads of one feed: the first reads the older bytes,
    # the second the newer; the first is held after its read (a slow feeds folder, a busy
    # loop) while the second is asked for. On SQLite every loaded feed has seq 0: only the
    # order of the loads keeps the newer one served.
    async with _site(tmp_path, workers=0, count=20) as (settings, store, leader):
        await leader.regenerate(["all"])
        held, reads = asyncio.Event(), []
        real_load = store.load_feeds

        async def gated(section: str | None = None) -> list[FeedDocument]:
            docs = await real_load(section)
            reads.append(docs)
            if len(reads) == 1:
                await held.wait()
            return docs

        store.load_feeds = gated  # type: ignore[method-assign]
        follower = Regenerator(settings, store, FeedCache(), pool=RenderPool(0))
        older = asyncio.ensure_future(follower.load_published("all"))
        await wait_until(lambda: _true(len(reads) == 1), timeout=10, what="the older read")
        await store.put(
            live_record("newer", sections=[next(iter(SECTIONS))]), now=datetime.now(UTC)
        )
        await leader.regenerate(["all"])
        newer = asyncio.ensure_future(follower.load_published("all"))
        await asyncio.sleep(0.05)  # room for the newer load to run, were it allowed to
        held.set()
        await asyncio.wait_for(asyncio.gather(older, newer), 10)
        served = follower.served("all", "rss.xml")
        assert served is not None and b"headline newer" in served.body


async def test_small_copies_of_a_replaced_feed_are_never_written(tmp_path: Path) -> None:
    # A background step that finishes after the next run replaced the feed must not pair
    # the old body's copies with the new body, in memory or in files.
    async with _site(tmp_path, workers=0) as (settings, store, regenerator):
        await regenerator.regenerate(["all"])
        old = regenerator.served("all", "rss.xml")
        assert old is not None
        await regenerator.settle()
        record = corpus.article(random.Random(999), 999, tuple(SECTIONS))
        await store.put(validate_record(record, settings), now=datetime.now(UTC))
        await regenerator.regenerate(["all"])
        await regenerator.settle()
        new = regenerator.served("all", "rss.xml")
        assert new is not None and new.body != old.body
        await regenerator._pipeline._add_small_copies([old])  # late, for the replaced one
        folder = settings.feeds_dir / "all"
        assert regenerator.served("all", "rss.xml") == new
        assert gzip.decompress((folder / "rss.xml.gz").read_bytes()) == new.body
        assert (folder / "rss.xml").read_bytes() == new.body


async def test_a_crashing_or_hanging_worker_is_a_section_error_and_the_last_feed_stays(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    store = await _store(tmp_path, settings, count=30)
    pool = RenderPool(1)
    cache = FeedCache()
    regenerator = Regenerator(settings, store, cache, pool=pool)
    try:
        assert all(r.error is None for r in await regenerator.regenerate())
        good = _bytes(cache, settings)
        for fault, expected in ((render_faults.crash, "died"), (render_faults.hang, "longer")):
            pool.worker = fault
            pool.timeout = 1.0
            ticks: list[float] = []
            ticker = asyncio.ensure_future(_tick(ticks))
            results = await regenerator.regenerate(list(SECTIONS)[:1])
            ticker.cancel()
            (result,) = results
            assert result.error is not None and expected in result.error, result.error
            assert _bytes(cache, settings) == good  # the last good feeds are served
            # The loop kept running while the worker failed (it never waits on the render).
            gaps = [b - a for a, b in itertools.pairwise(ticks)]
            assert not gaps or max(gaps) < 0.5
        pool.worker = RenderPool(0).worker  # a working renderer again: a fresh pool serves
        pool.timeout = 60.0
        results = await regenerator.regenerate(list(SECTIONS)[:1])
        assert results[0].error is None
    finally:
        pool.close()
        await store.close()


async def test_calls_queued_behind_work_that_finishes_are_not_taken_for_a_hang() -> None:
    # A call's wait counted its queue: the last sections of a long pass on cores busy with
    # readers were "hung" (and their worker killed) while the worker was finishing others.
    pool = RenderPool(1)
    pool.timeout = 1.0
    try:
        calls = [pool.call(render_faults.whose_later) for _ in range(8)]  # 0.3 s each
        started = time.monotonic()
        pids = await asyncio.gather(*calls)
        assert time.monotonic() - started > 2 * pool.timeout  # longer than a call may hang
        assert len(set(pids)) == 1  # one worker did them all, never replaced
    finally:
        pool.close()


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux's scheduling policies")
async def test_workers_run_only_on_cores_the_readers_leave_idle() -> None:
    pool = RenderPool(2)
    try:
        for _ in range(2):
            assert await pool.call(os.sched_getscheduler, 0) == os.SCHED_IDLE
        assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the readers' process is not
    finally:
        pool.close()


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (from /proc: its children, theirs, …)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc")
def test_render_workers_end_with_a_server_killed_outright(tmp_path: Path) -> None:
    (tmp_path / "syndicate.toml").write_text(config_toml(), encoding="utf-8")
    env = child_env(tmp_path, {"SYNDICATE_PORT": str(free_port()), "SYNDICATE_RUN_SCHEDULER": "1"})
    with serving(tmp_path, env) as server:
        # The start-up regeneration ran in the workers: they exist now.
        wait_for_log(server, tmp_path / "serve.log", b"regenerated section=all")
        below = _descendants(server.pid)
        assert len(below) >= 3, below  # the forkserver, a worker, the resource tracker
        server.send_signal(signal.SIGKILL)  # no cleanup of its own runs
        server.wait(timeout=10)

        def all_gone() -> bool:
            return not [pid for pid in below if Path(f"/proc/{pid}").exists()]

        wait_until_sync(all_gone, timeout=20, what="the killed server's workers to end")


async def test_the_workers_are_running_before_the_first_render(tmp_path: Path) -> None:
    """Started by the app (in a thread), not by a section's first render: spawning a worker
    holds its caller for tens of milliseconds, which on the loop held every reader."""
    # A budget no other test uses: a pool of its own (pools are shared per shape in a process).
    settings = build_settings(tmp_path, run_scheduler=False, render_workers=2, render_cache_mb=7)
    async with running_app(settings) as client:
        pool = client.app[REGENERATOR].pool
        assert pool.alive() == 2  # nothing has been rendered yet


async def test_no_copy_is_written_into_the_feeds_folder_after_the_app_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The small copies follow a run in the background; one still writing when the app
    # stopped wrote into a folder its owner was already removing (the bench's temp folder).
    from syndicate.pipeline.regenerate.pipeline import SectionPipeline

    started, release, written = threading.Event(), threading.Event(), threading.Event()
    write = SectionPipeline._write_copies

    def held(self: SectionPipeline, *args: Any) -> None:
        started.set()
        release.wait(30)  # held until the app has begun to stop
        write(self, *args)
        written.set()

    monkeypatch.setattr(SectionPipeline, "_write_copies", held)
    settings = build_settings(tmp_path, run_scheduler=False, render_workers=0)
    async with running_app(settings) as client:
        headers = await editor_header(client)
        body = live_record("copied", sections=["global"])
        assert (await client.post("/api/articles", json=body, headers=headers)).status == 201
        await client.post("/api/regenerate", json={"sections": ["global"]}, headers=headers)
        await asyncio.to_thread(started.wait, 30)
        assert started.is_set() and not written.is_set()
        # Let the write go once the app is stopping (its cleanup runs after this body).
        asyncio.get_running_loop().call_later(0.5, release.set)
    assert written.is_set()  # the app waited for it


async def _true(value: bool) -> bool:
    return value


@pytest.mark.skipif(not Path("/proc/sys/fs/pipe-max-size").is_file(), reason="Linux pipes")
def test_a_sections_feeds_go_through_the_pools_pipes_in_one_write() -> None:
    """A section's three feeds (~1 MB) through the default 64 KiB pipes took sixteen turns
    between the processes: a dirty pass's round trip cost twice its render."""
    import fcntl

    from syndicate.pipeline.render_pool import PIPE_BYTES

    if int(Path("/proc/sys/fs/pipe-max-size").read_text()) < PIPE_BYTES:
        pytest.skip("this system keeps pipes smaller")
    pool = RenderPool(1, 0)
    try:
        pool.start()
        executor = pool._executor()
        ends = (executor._call_queue._writer, executor._result_queue._reader)  # type: ignore[attr-defined]
        get_size = getattr(fcntl, "F_GETPIPE_SZ", 1032)
        sizes = [fcntl.fcntl(end.fileno(), get_size) for end in ends]
        assert sizes == [PIPE_BYTES, PIPE_BYTES]
    finally:
        pool.close()


async def test_a_regeneration_decodes_its_articles_in_the_workers_not_on_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fifty articles a section decoded here cost ~1.5 ms of the loop that answers readers
    (35 ms a full pass); the store's rows go to the worker as they are."""
    from syndicate.core.model import Article

    async with _site(tmp_path, workers=1) as (_, _, regenerator):
        await asyncio.to_thread(regenerator.pool.start)  # forked before the patch below
        decoded_here: list[str] = []
        real = Article.from_record.__func__  # type: ignore[attr-defined]

        def counting(cls: type[Article], record: Any, **kwargs: Any) -> Article:
            decoded_here.append(record["id"])
            return real(cls, record, **kwargs)

        monkeypatch.setattr(Article, "from_record", classmethod(counting))
        results = await regenerator.regenerate()
        assert all(r.error is None and r.items for r in results), results
        assert decoded_here == []


def test_a_worker_decodes_each_stored_article_once_and_anew_when_it_changes() -> None:
    from syndicate.core.model import StoredArticle
    from syndicate.pipeline.render_pool import DecodedArticles

    record = live_record("once", sections=["global"])
    now = datetime.now(UTC)
    first = StoredArticle(json.dumps(record), 1, "published", now, now)
    decoded = DecodedArticles(size=2)
    article = decoded.article(first)
    assert article.id == "once" and article.version == 1
    assert decoded.article(StoredArticle(json.dumps(record), 1, "published", now, now)) is article
    changed = StoredArticle(json.dumps({**record, "headline": "New"}), 2, "published", now, now)
    assert decoded.article(changed).headline == "New"
    for n in range(3):  # bounded: the oldest go first
        decoded.article(StoredArticle(json.dumps(record), 10 + n, "published", now, now))
    assert decoded.article(first) is not article


async def test_a_section_is_rendered_by_the_same_worker_every_time(tmp_path: Path) -> None:
    """Its item fragments live in that worker: sent to whichever was free, a section found
    them in the other one half the time and rendered all its items cold."""
    settings = _settings(tmp_path)
    section = settings.feed_section(settings.section_slugs[0])
    assert section is not None
    pool = RenderPool(2, 0)
    pool.worker = render_faults.whose  # type: ignore[assignment]
    try:
        await asyncio.to_thread(pool.start)
        calls = [
            pool.render(FeedContext.from_settings(settings), section, [], {}, home=n % 2)
            for n in range(20)
        ]
        pids: list[Any] = await asyncio.gather(*calls)
        by_home = {home: set(pids[home::2]) for home in (0, 1)}
        assert all(len(found) == 1 for found in by_home.values()), by_home
        assert by_home[0] != by_home[1]
    finally:
        pool.close()


async def test_work_without_a_home_goes_to_the_worker_that_is_free(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    section = settings.feed_section(settings.section_slugs[0])
    assert section is not None
    pool = RenderPool(2, 0)
    pool.worker = render_faults.whose_later  # type: ignore[assignment]
    ctx = FeedContext.from_settings(settings)
    try:
        await asyncio.to_thread(pool.start)
        for home in (0, 1):
            busy, free = await asyncio.gather(
                pool.render(ctx, section, [], {}, home=home), pool.render(ctx, section, [], {})
            )
            assert busy != free, home
    finally:
        pool.close()


async def test_all_has_no_home_and_sections_have_theirs(tmp_path: Path) -> None:
    # `all` changes with every section: on a home of its own it shared a worker with half of
    # them, and the run after one story rendered the two one after the other.
    async with _site(tmp_path, workers=0) as (settings, _, regenerator):
        homes: dict[str, int | None] = {}
        real = regenerator.pool.render

        async def render(*args: Any, home: int | None = None) -> Any:
            homes[args[1].slug] = home
            return await real(*args, home=home)

        regenerator.pool.render = render  # type: ignore[method-assign]
        await regenerator.regenerate()
    slugs = settings.section_slugs
    assert homes == {ALL_SECTION: None} | {slug: n for n, slug in enumerate(slugs)}


async def test_what_is_served_comes_back_from_a_worker_without_its_bytes(tmp_path: Path) -> None:
    async with _site(tmp_path, workers=0) as (settings, store, regenerator):
        await regenerator.regenerate()
        slug = settings.section_slugs[0]
        configured = settings.feed_section(slug)
        assert configured is not None
        section = await archive.linked(store, configured)  # as a run renders it
        served = {n: s.etag for n in ("rss.xml", "atom.xml") if (s := regenerator.served(slug, n))}
        stored = await store.latest_stored(slug, section.limit, now=datetime.now(UTC))
        pieces = render_section(FeedContext.from_settings(settings), section, stored, served)
        left_out = {p.filename for p in pieces if p.served}
        assert left_out == {"rss.xml", "atom.xml"}
        assert all(p.fitted.body == b"" and p.gzip is None for p in pieces if p.served)
        [json_feed] = [p for p in pieces if not p.served]
        assert json_feed.fitted.body == regenerator.served(slug, "feed.json").body  # type: ignore[union-attr]


async def test_a_feed_replaced_while_its_render_ran_is_rendered_again_with_its_bytes(
    tmp_path: Path,
) -> None:
    """The worker left out the bytes of what was served when the run began; a load that
    replaced them meanwhile must not have its bytes served under the render's ETag."""
    async with _site(tmp_path, workers=0) as (settings, _, regenerator):
        await regenerator.regenerate()
        slug = settings.section_slugs[0]
        before = regenerator.served(slug, "rss.xml")
        assert before is not None
        real = regenerator.pool.render
        replaced: list[bool] = []

        async def render(*args: Any, **kwargs: Any) -> Any:
            out = await real(*args, **kwargs)
            if not replaced:  # as a load of another process's render would, meanwhile
                replaced.append(True)
                other = FeedDocument(slug, "rss.xml", b"<rss>another</rss>", before.last_modified)
                regenerator.cache.put(other)
            return out

        regenerator.pool.render = render  # type: ignore[method-assign]
        regenerator.start_afresh()
        await regenerator.regenerate([slug])
        now = regenerator.served(slug, "rss.xml")
        assert now is not None and now.body == before.body and now.etag == before.etag


def _calls_to(monkeypatch: pytest.MonkeyPatch, method: str) -> list[int]:
    """Count the calls of one of the SQLite store's methods (every store made from now)."""
    real = getattr(SQLiteStore, method)
    calls: list[int] = []

    async def counted(self: SQLiteStore, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(SQLiteStore, method, counted)
    return calls


async def test_a_pass_reads_the_seqs_and_indexes_once_not_once_a_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500-section pass read 500 rows for each of its 500 sections, and each run began
    its archive link with an indexing of its own."""
    reads = _calls_to(monkeypatch, "section_seqs")
    indexings = _calls_to(monkeypatch, "index_changes")
    async with _site(tmp_path, workers=0) as (settings, _, regenerator):
        results = await regenerator.regenerate()
        assert len(results) == len(settings.section_slugs) + 1
        assert all(r.error is None and r.items for r in results)
        assert len(reads) == 2  # the caller's, then one for every run of the pass
        assert len(indexings) == 1
        await regenerator.regenerate()  # a later pass reads again
        assert len(reads) == 4


@pytest.mark.parametrize("sections", [["s01"], ["s01", "all"], None])
async def test_a_few_runs_read_their_articles_while_indexing_a_pass_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sections: list[str] | None
) -> None:
    # The timer's common run (a section and `all`) starts rendering sooner; in a pass, the
    # articles wait for the archive links, or their reads held every section's link back.
    indexing = asyncio.Event()
    release = asyncio.Event()
    real_index = SQLiteStore.index_changes

    async def held(self: SQLiteStore) -> int:
        indexing.set()
        await release.wait()
        return await real_index(self)

    monkeypatch.setattr(SQLiteStore, "index_changes", held)
    reads = _calls_to(monkeypatch, "latest_stored")
    async with _site(tmp_path, workers=0) as (settings, _, regenerator):
        running = asyncio.ensure_future(regenerator.regenerate(sections))
        await asyncio.wait_for(indexing.wait(), 10)
        runs = len(sections) if sections else len(settings.section_slugs) + 1
        if runs <= pipeline_module.FEW_RUNS:

            async def all_read() -> bool:
                return len(reads) == runs

            await wait_until(all_read, timeout=10, what="the articles read while indexing")
        else:
            for _ in range(50):  # any turn the pass's reads could have taken
                await asyncio.sleep(0)
            assert reads == []
        release.set()
        results = await asyncio.wait_for(running, 30)
        assert [r.error for r in results] == [None] * runs and len(reads) == runs
        # Linked as far as indexed: the newest archive page of every section.
        for result in results:
            assert result.items


@pytest.mark.parametrize("sections", [["s01"], None])
async def test_a_failed_archive_link_is_a_section_error_and_leaves_no_read_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sections: list[str] | None
) -> None:
    # CI: in a pass, the articles' read was made before the link failed and never awaited
    # ("coroutine 'latest_stored' was never awaited", in the next test's setup).
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("archive index unreadable")

    monkeypatch.setattr(archive, "linked", broken)
    async with _site(tmp_path, workers=0) as (settings, _, regenerator):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results = await regenerator.regenerate(sections)
            gc.collect()
        runs = len(sections) if sections else len(settings.section_slugs) + 1
        assert [r.error for r in results] == ["OSError: archive index unreadable"] * runs
        assert [str(w.message) for w in caught] == []


async def test_a_pass_where_nothing_changed_reads_no_feed_file_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It read every feed and copy back to compare (~1.2 MB and ten system calls a feed, on
    # threads taking the GIL from the readers' loop); what this process left there, it knows.
    async with _site(tmp_path, workers=0) as (settings, _, regenerator):
        assert all(r.error is None for r in await regenerator.regenerate())
        await regenerator.settle()
        assert all(r.error is None for r in await regenerator.regenerate())  # copies known
        opened: list[Path] = []
        real_open = Path.open

        def counted(self: Path, *args: Any, **kwargs: Any) -> Any:
            if settings.feeds_dir in self.parents:
                opened.append(self)
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", counted)
        results = await regenerator.regenerate()
        assert all(r.error is None and not r.changed for r in results)
        assert opened == []
        # A feed someone removed is put back by the next pass all the same.
        gone = settings.feeds_dir / "s01" / "atom.xml"
        gone.unlink()
        await regenerator.regenerate(["s01"])
        assert gone.read_bytes() == regenerator.served("s01", "atom.xml").body  # type: ignore[union-attr]


async def test_a_shared_read_is_one_read_per_turn_of_the_loop() -> None:
    from syndicate.pipeline.regenerate.pipeline import SharedRead

    reads: list[int] = []

    async def read() -> int:
        reads.append(1)
        await asyncio.sleep(0.01)
        return len(reads)

    shared = SharedRead(read)
    assert await asyncio.gather(shared(), shared(), shared()) == [1, 1, 1]
    assert await shared() == 2
