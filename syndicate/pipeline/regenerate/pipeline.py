"""One section's regeneration: read its newest articles, render every format in a worker,
keep what changed in the store and in the serving cache, then copy it into the feeds folder.

A section that fails keeps its last good feeds; its error is in its result. Memory is the
truth and files are a copy: a feeds folder that cannot be written never keeps new bytes from
being served, and the files catch up at the next run that can write them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Generic, TypeVar

from syndicate.core.clock import Clock
from syndicate.core.config import ALL_SECTION, Settings
from syndicate.core.model import FeedDocument
from syndicate.pipeline import archive, publish
from syndicate.pipeline.regenerate.results import FormatResult, SectionResult
from syndicate.pipeline.render_pool import Rendered, RenderFailed, RenderPool
from syndicate.pipeline.served import FeedCache, ServedFeed, strong_etag
from syndicate.render import FORMATS, FeedContext
from syndicate.store.base import Store

log = logging.getLogger("syndicate.regenerate")
# Up to this many runs at once, a run reads its articles while the changes are indexed (on
# the store's writer) and its archive link read: ~1.5 ms sooner to render.
FEW_RUNS = 2
T = TypeVar("T")


class SectionPipeline:
    """Regenerates one section at a time when asked (coalescing is the caller's job)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        cache: FeedCache,
        pool: RenderPool,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.store = store
        self.cache = cache
        self.pool = pool
        self.clock = clock
        self.context = FeedContext.from_settings(settings)
        # Sections whose files lag behind what is served (a write failed): dirty until written.
        self.files_behind: set[str] = set()
        self._background: set[asyncio.Task[None]] = set()
        # One writer a section (or file) at a time: the small copies of a document written
        # after the next run had written its own files would pair an old .gz with a new body.
        self._writing: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.seen = publish.Seen()  # what the feeds folder holds, as this process left it
        # The small copies of what the runs changed, made once no run is in progress: queued
        # in the workers behind a pass's renders still to come, they held up its later
        # sections. Keyed by document, so a feed changed twice meanwhile is compressed once.
        self._copies_due: dict[tuple[str, str], ServedFeed] = {}
        # Loads one at a time, each from reading the store to serving what it read: an older
        # load finishing after a newer one would serve the older bytes (on SQLite, whose
        # stored feeds carry no seq, the cache cannot tell them apart).
        self._loading = asyncio.Lock()
        self._runs_in_progress = 0
        self._closing = False  # set at shutdown: background work stops at its next document
        # A pass starts every section at once: one read of the seqs for all of them (each
        # run read them all for its own, 500 reads of 500 rows in a 500-section pass).
        self._section_seqs = SharedRead(store.section_seqs)
        self._index = SharedRead(store.index_changes)  # and one indexing of new changes
        # Each section's render worker (see RenderPool): the sections in turn. `all` has
        # none: it changes with every section, and on a home of its own it shared a worker
        # with half of them, so the run after a story in one of those rendered the two one
        # after the other. It goes to the least busy worker; each keeps its items.
        self._homes = {slug: n for n, slug in enumerate(settings.section_slugs)}

    @property
    def feeds_dir(self) -> Path:
        return self.settings.feeds_dir

    async def run(self, slug: str) -> SectionResult:
        """Regenerate `slug` now; every failure becomes the result's error."""
        self._runs_in_progress += 1
        try:
            return await self._run(slug)
        finally:
            self._runs_in_progress -= 1
            if not self._runs_in_progress and self._copies_due:
                due = list(self._copies_due.values())
                self._copies_due.clear()
                self._in_background(self._add_small_copies(due))

    async def _run(self, slug: str) -> SectionResult:
        configured = self.settings.feed_section(slug)
        assert configured is not None
        started = time.perf_counter()
        result = SectionResult(section=slug)
        try:
            seqs = await self._section_seqs()
            seq = seq_of(slug, seqs)
            # The clock is read after the seqs: a release the seqs show was decided at a time
            # before `now`, so `latest(now=now)` cannot leave the released article out.
            now = self.clock()
            result.generated_at = now
            # RFC 5005: the feed links its newest archive page (see pipeline/archive.py).
            linking = archive.linked(self.store, configured, index=self._index)
            # Read undecoded: the worker that renders them decodes them (see StoredArticle).
            reading = functools.partial(
                self.store.latest_stored,
                None if slug == ALL_SECTION else slug,
                configured.limit,
                now=now,
            )
            if self._runs_in_progress > FEW_RUNS:
                # Linked before the articles are read: in a pass, every section's reads queue
                # on the store's one reader, and indexing's short reads queued behind all of
                # them held every render back (~90 ms of a 0.5 s pass).
                section = await linking
                articles = await reading()
            else:  # the timer's common run, a story's section and `all`: indexing meanwhile
                section, articles = await asyncio.gather(linking, reading())
            served_etags = {
                fmt.filename: current.etag
                for fmt in FORMATS.values()
                if (current := self.cache.get(slug, fmt.filename)) is not None
            }
            # Rendered and gzipped (fast) in a worker; the small gzip and brotli copies follow
            # in the background, in a worker too, once no run is in progress.
            home = self._homes.get(slug)
            rendered = await self.pool.render(
                self.context, section, articles, served_etags, home=home
            )
            if not all(self._still_served(slug, piece) for piece in rendered if piece.served):
                # What was served changed meanwhile (a load of another process's render):
                # the bytes left out are no longer here. Rare: render again, bodies and all.
                rendered = await self.pool.render(self.context, section, articles, {}, home=home)
            served: list[ServedFeed] = []
            fresh: list[FeedDocument] = []
            made: list[ServedFeed] = []
            for piece in rendered:
                fitted = piece.fitted
                # `generated` is the clock read above: never later than a response's Date
                # (RFC 9110), so two changes in one second share a Last-Modified; the ETag
                # tells them apart. Which render is newer is decided by `seq`, never by times.
                current = self.cache.get(slug, piece.filename)
                body = current.body if piece.served and current is not None else fitted.body
                doc = FeedDocument(section.slug, piece.filename, body, now, seq, piece.gzip)
                changed = current is None or current.body != doc.body
                if changed:
                    fresh.append(doc)
                    made.append(ServedFeed.rendered(doc, piece.etag, piece.gzip))
                elif current is not None:
                    served.append(current)
                result.formats.append(
                    FormatResult(
                        piece.format,
                        fitted.items,
                        len(doc.body),
                        changed,
                        piece.etag,
                        fitted.shortened,
                        fitted.left_out,
                        fitted.failed,
                    )
                )
            done_seq = seq
            if fresh:
                made, served, done_seq = await self._keep(slug, fresh, made, served, seq)
            kept = [item for item in made if self.cache.put_served(item)]
            if len(kept) < len(made):
                # A load of a newer state's render (another process's save) came in while
                # this one was saved: that one is served, and written.
                names = {item.name for item in kept}
                served.extend(
                    c for i in made if i.name not in names and (c := self.cache.get(slug, i.name))
                )
                made = kept
            result.files_error = await self.write_files(slug, self._publish_files, served + made)
            for item in made:  # made when no run is in progress (see `__init__`)
                self._copies_due[(item.section, item.name)] = item
            etags = {s.name: s.etag for s in [*served, *made]}
            for fr in result.formats:
                fr.etag = etags.get(FORMATS[fr.format].filename, "")
            result.seq = done_seq
        except Exception as exc:  # one bad section must not stop the others
            log.exception("regenerate: section %s failed", slug)
            result.generated_at = result.generated_at or self.clock()
            result.error = f"{type(exc).__name__}: {exc}"
        result.milliseconds = (time.perf_counter() - started) * 1000
        return result

    def _still_served(self, slug: str, piece: Rendered) -> bool:
        current = self.cache.get(slug, piece.filename)
        return current is not None and current.etag == piece.etag

    async def _keep(
        self,
        slug: str,
        fresh: list[FeedDocument],
        made: list[ServedFeed],
        served: list[ServedFeed],
        seq: int,
    ) -> tuple[list[ServedFeed], list[ServedFeed], int]:
        """Save the new documents; what another process saved of a newer state wins.

        Returns (made, served, done_seq) with the lost documents replaced by the stored ones.
        """
        # Lost only to a render of a newer state (the order the store's save keeps): the
        # store says which, without reading back every body it was given.
        stored = {d.name: d for d in await self.store.save_feeds(fresh)}
        lost = set(stored)
        done_seq = seq
        for name in lost:
            self.cache.put(stored[name])
            done_seq = min(done_seq, stored[name].seq)
        made = [m for m in made if m.name not in lost]
        served = [m for m in served if m.name not in lost]
        served.extend(c for n in lost if (c := self.cache.get(slug, n)) is not None)
        return made, served, done_seq

    async def write_files(
        self, what: str, write: Callable[..., object], *args: object
    ) -> str | None:
        """Run one write into the feeds folder off the loop; its error in words, or None."""
        try:
            async with self._writing[what]:
                await asyncio.to_thread(write, *args)
        except OSError as exc:
            log.warning("regenerate: cannot write %s into %s: %s", what, self.feeds_dir, exc)
            self.files_behind.add(what)
            return f"feeds folder: {type(exc).__name__}: {exc}"
        self.files_behind.discard(what)
        return None

    def _publish_files(self, documents: list[ServedFeed]) -> None:
        for doc in documents:
            publish.publish(
                self.feeds_dir,
                doc.section,
                doc.name,
                doc.body,
                gz=doc.gzip,
                br=doc.br,
                brotli_copy=doc.br is not None,
                # The feed's Last-Modified: static servers on every host show the same times.
                mtime=doc.last_modified.timestamp(),
                seen=self.seen,
            )

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _add_small_copies(self, documents: list[ServedFeed]) -> None:
        for doc in documents:
            if self._closing:  # the smaller copies are an improvement: not worth a wait
                return
            try:
                # In a render worker, at its priority, once no run is in progress: never
                # competing with a regeneration for the cores.
                gz, br = await self.pool.call(publish.small_copies, doc.body)
                async with self._writing[doc.section]:
                    # Still the document served (no newer run has replaced it, nor its files).
                    if self.cache.add_copies(doc.section, doc.name, doc.body, gz, br):
                        await asyncio.to_thread(self._write_copies, doc, gz, br)
            except OSError as exc:  # the feeds folder: the run's own write reports it
                log.warning("regenerate: small copies of %s/%s: %s", doc.section, doc.name, exc)
            except Exception:  # the fast gzip copy goes on serving: only bytes are lost
                log.exception("regenerate: small copies of %s/%s failed", doc.section, doc.name)

    def _write_copies(self, doc: ServedFeed, gz: bytes, br: bytes) -> None:
        for suffix, data in ((".gz", gz), (".br", br)):
            publish.write_copy(
                self.feeds_dir,
                doc.section,
                doc.name,
                suffix,
                data,
                mtime=doc.last_modified.timestamp(),
            )

    async def settle(self) -> None:
        """Wait for background work (the small copies) to finish: before exit, or in tests."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        """Stop background work at its next document and wait for the one under way: nothing
        writes into the feeds folder once this returns (a copy's write, left running in its
        thread at shutdown, wrote into a folder its owner was removing)."""
        self._closing = True
        await self.settle()

    async def load_published(self, section: str | None = None) -> int:
        """Fill the serving cache from the store (at start, or when another process wrote).

        The feeds folder gets the same bytes: every process's SYNDICATE_FEEDS_DIR is its own
        copy of what it serves (for a static server or CDN origin), leader or not. Memory
        first: a folder that cannot be written never keeps the new bytes from being served.
        """
        async with self._loading:
            docs = await self.store.load_feeds(section)
            served: dict[str, list[ServedFeed]] = defaultdict(list)
            due: list[ServedFeed] = []  # served now with the fast copy only
            for item, new in await asyncio.gather(*(self._loaded(doc) for doc in docs)):
                served[item.section].append(item)
                if new and item.br is None:
                    due.append(item)
            for slug, items in served.items():
                try:
                    async with self._writing[slug]:
                        await asyncio.to_thread(self._publish_files, items)
                except Exception:
                    log.exception("regenerate: cannot write loaded feeds to %s", self.feeds_dir)
            if due:
                self._in_background(self._add_small_copies(due))
        return len(docs)

    async def _loaded(self, doc: FeedDocument) -> tuple[ServedFeed, bool]:
        """A stored document as served, and whether it is served now as loaded (not what was
        served already: this process hears its own saves, and a run's copies are under way).

        With the fast gzip copy the store keeps, at once: the small copies follow in the
        background, as after a run here (made first, in a worker, a newer feed another process
        saved waited behind the workers, which yield to readers: on a busy follower, for
        seconds). A row kept whole (saved before the store kept them gzipped) has its copies
        made first, as before (~11 ms a feed)."""
        before = self.cache.get(doc.section, doc.name)
        if before is not None and before.body == doc.body:
            return self.cache.put(doc), False  # the same bytes, as of the newer seq
        if doc.gzip is not None:
            return self._serve(ServedFeed.rendered(doc, strong_etag(doc.body), doc.gzip))
        try:
            gz, br = await self.pool.call(publish.small_copies, doc.body)
        except RenderFailed:  # no worker to do it: here, rather than not serve the feed
            log.exception("regenerate: compressing %s/%s here", doc.section, doc.name)
            gz, br = publish.small_copies(doc.body)
        return self._serve(ServedFeed.from_document(doc, gzip=gz, br=br))

    def _serve(self, loaded: ServedFeed) -> tuple[ServedFeed, bool]:
        if self.cache.put_served(loaded):
            return loaded, True
        # A run here put the render of a newer state meanwhile (the cache decides by seq: a
        # run's render put in meanwhile may also be of an older state, saved before this).
        return self.cache.get(loaded.section, loaded.name) or loaded, False


class SharedRead(Generic[T]):
    """`read()` once for every caller that asks in the same turn of the event loop; callers
    a turn later read again.

    A shared read started at most a turn before its caller asked. For the seqs that is
    safe: a run that reports an older seq than it rendered only makes a caller (or the
    timer) regenerate that section once more; it can never claim a change it did not see.
    For indexing, a story saved within that turn may be indexed by the next run instead,
    its archive link one article behind until then (as when indexing fails).
    """

    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self._read = read
        self._current: asyncio.Future[T] | None = None

    async def __call__(self) -> T:
        if self._current is None:
            self._current = asyncio.ensure_future(self._read())
            asyncio.get_running_loop().call_soon(self._forget)
        return await asyncio.shield(self._current)

    def _forget(self) -> None:
        self._current = None


def seq_of(slug: str, seqs: dict[str, int]) -> int:
    """The seq a section's feeds depend on: its own, or the newest of all for `all`."""
    return max(seqs.values(), default=0) if slug == ALL_SECTION else seqs.get(slug, 0)
