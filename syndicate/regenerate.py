"""The ONE regeneration path: timer, editor API and CLI all call `Regenerator.regenerate`.

For each section: read its newest articles (one indexed query), render every reader format,
publish changed documents atomically, keep them in the store and in the serving cache.
A section that fails keeps its last good feeds; its error is recorded and the rest go on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from syndicate import publish
from syndicate.config import ALL_SECTION, Settings
from syndicate.errors import NotFound
from syndicate.model import FeedDocument
from syndicate.render import FORMATS, FeedContext, feed_sections
from syndicate.render.opml import render_opml
from syndicate.render_pool import RenderPool, default_workers, shared_pool
from syndicate.served import FeedCache, ServedFeed
from syndicate.store.base import Store

log = logging.getLogger("syndicate.regenerate")


@dataclass(slots=True)
class FormatResult:
    format: str
    items: int
    bytes: int
    changed: bool
    etag: str
    # Articles too large for the feed's byte budget on their own (see `render.fit_counted`).
    shortened: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "items": self.items,
            "bytes": self.bytes,
            "changed": self.changed,
            "etag": self.etag,
            "shortened": list(self.shortened),
            "left_out": list(self.left_out),
            "quarantined": [{"id": i, "error": e} for i, e in self.failed],
        }


@dataclass(slots=True)
class SectionResult:
    """The outcome of regenerating one section (what the API, CLI and status show)."""

    section: str
    formats: list[FormatResult] = field(default_factory=list)
    milliseconds: float = 0.0
    generated_at: datetime | None = None
    error: str | None = None
    # The feeds folder could not be written: the new bytes are served from memory anyway, and
    # the files catch up at the next run that can write them.
    files_error: str | None = None
    coalesced: bool = False
    # The store's change seq this run read before its articles: it reflects every change up
    # to here (-1 when the run failed before reading).
    seq: int = -1

    @property
    def changed(self) -> bool:
        return any(f.changed for f in self.formats)

    @property
    def items(self) -> int:
        return max((f.items for f in self.formats), default=0)

    @property
    def warnings(self) -> list[str]:
        """What the feeds carry differently from the store, in words for status."""
        notes: list[str] = []
        for f in self.formats:
            notes += [f"{f.format}: {i} over the byte budget, in summary form" for i in f.shortened]
            notes += [f"{f.format}: {i} over the byte budget, left out" for i in f.left_out]
            notes += [f"{f.format}: {i} left out, it cannot be rendered: {e}" for i, e in f.failed]
        return notes

    def as_dict(self) -> dict[str, object]:
        return {
            "section": self.section,
            "items": self.items,
            "bytes": sum(f.bytes for f in self.formats),
            "changed": self.changed,
            "milliseconds": round(self.milliseconds, 2),
            "generated_at": self.generated_at.isoformat() if self.generated_at else None,
            "error": self.error,
            "files_error": self.files_error,
            "warnings": self.warnings,
            "coalesced": self.coalesced,
            "formats": [f.as_dict() for f in self.formats],
        }


ChangeListener = Callable[[str, list[str]], Awaitable[None]]
Observer = Callable[["SectionResult"], None]


class Regenerator:
    """Regenerates sections; one run per section at a time, concurrent callers share it."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        cache: FeedCache,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pool: RenderPool | None = None,
    ) -> None:
        self.settings = settings
        # Rendering runs in worker processes, never on the loop that answers readers.
        workers = settings.render_workers
        self.pool = pool or shared_pool(default_workers() if workers is None else workers)
        self.store = store
        self.cache = cache
        self.clock = clock
        self.context = FeedContext.from_settings(settings)
        # The OPML list depends on the configuration only: rendered once, published with
        # every full regeneration (publish skips it when unchanged).
        self.opml = render_opml(self.context, feed_sections(settings))
        self.last: dict[str, SectionResult] = {}
        self.generated_seq: dict[str, int] = {}
        self._running: dict[str, asyncio.Task[SectionResult]] = {}
        # Called after every section run (metrics), and after runs that changed a feed (WebSub).
        self.observers: list[Observer] = []
        self.listeners: list[ChangeListener] = []
        self._background: set[asyncio.Task[None]] = set()
        # Sections whose files lag behind what is served (a write failed): dirty until written.
        self._files_behind: set[str] = set()
        self.opml_error: str | None = None

    @property
    def feeds_dir(self) -> Path:
        return self.settings.feeds_dir

    def all_slugs(self) -> list[str]:
        return [*self.settings.section_slugs, ALL_SECTION]

    def resolve(self, sections: Sequence[str] | None) -> list[str]:
        """Requested slugs checked against the config; empty or None means every section."""
        if not sections:
            return self.all_slugs()
        unknown = [s for s in sections if self.settings.feed_section(s) is None]
        if unknown:
            raise NotFound(f"no such section: {', '.join(unknown)}")
        return list(dict.fromkeys(sections))

    def waiting(self, seqs: dict[str, int]) -> set[str]:
        """The sections (and `all`) with changes no run of this process has rendered yet."""
        return set(self._dirty(seqs))

    def _dirty(self, seqs: dict[str, int]) -> list[str]:
        dirty = [
            s
            for s in self.settings.section_slugs
            if seqs.get(s, 0) > self.generated_seq.get(s, -1) or s in self._files_behind
        ]
        newest = max(seqs.values(), default=0)
        stale = (
            newest > self.generated_seq.get(ALL_SECTION, -1) or ALL_SECTION in self._files_behind
        )
        if dirty or stale:
            dirty.append(ALL_SECTION)
        return dirty

    async def regenerate(
        self, sections: Sequence[str] | None = None, *, only_changed: bool = False
    ) -> list[SectionResult]:
        """Regenerate the given sections (None/empty: all); `only_changed`: just dirty ones.

        Each result reflects at least every change stored before the call: a run already in
        progress is joined (`coalesced`) only if it read the store after those changes;
        otherwise one follow-up run is made, shared by everyone who was waiting for it.
        Sections run concurrently; the results come back in the order asked for.
        """
        slugs = self.resolve(sections)
        if not sections:
            self.opml_error = await self._write_files(
                "opml.xml", publish.publish, self.feeds_dir, None, "opml.xml", self.opml
            )
        # What the caller must see: the store as it is now (read once for all sections).
        seqs = await self.store.section_seqs()
        if only_changed:
            dirty = set(self._dirty(seqs))
            slugs = [s for s in slugs if s in dirty]
        return list(
            await asyncio.gather(*(self._regenerate_shared(s, _seq_of(s, seqs)) for s in slugs))
        )

    async def _regenerate_shared(self, slug: str, needed_seq: int) -> SectionResult:
        while True:
            run = self._running.get(slug)
            if run is None:
                run = self._start(slug)
                return await asyncio.shield(run)
            try:
                result = await asyncio.shield(run)
            except asyncio.CancelledError:
                # The run was cancelled under us (shutdown), not we: try again or stop.
                task = asyncio.current_task()
                if run.cancelled() and task is not None and not task.cancelling():
                    continue
                raise
            # A run that read the store after our changes covers us; a failed one is shared
            # (running it again at once would most likely fail the same way).
            if result.error is not None or result.seq >= needed_seq:
                return _coalesced(result)
            # Otherwise loop: the first waiter starts the one follow-up, the rest join it.

    def _start(self, slug: str) -> asyncio.Task[SectionResult]:
        """Run one section in its own task, so a cancelled caller never cancels the run."""

        async def run() -> SectionResult:
            try:
                return await self._regenerate_one(slug)
            finally:
                # Cleared before the task completes: whoever it wakes sees no run in progress.
                if self._running.get(slug) is task:
                    del self._running[slug]

        task = asyncio.get_running_loop().create_task(run(), name=f"regenerate-{slug}")
        self._running[slug] = task
        return task

    async def drain(self) -> None:
        """Wait for the runs in progress (at shutdown, before the store closes)."""
        running = list(self._running.values())
        if running:
            await asyncio.gather(*running, return_exceptions=True)

    async def _regenerate_one(self, slug: str) -> SectionResult:
        section = self.settings.feed_section(slug)
        assert section is not None
        started = time.perf_counter()
        result = SectionResult(section=slug)
        try:
            seqs = await self.store.section_seqs()
            seq = _seq_of(slug, seqs)
            # The clock is read after the seqs: a release the seqs show was decided at a time
            # before `now`, so `latest(now=now)` cannot leave the released article out.
            now = self.clock()
            result.generated_at = now
            articles = await self.store.latest(
                None if slug == ALL_SECTION else slug, section.limit, now=now
            )
            served: list[ServedFeed] = []
            fresh: list[FeedDocument] = []
            made: list[ServedFeed] = []
            etags = {
                fmt.filename: current.etag
                for fmt in FORMATS.values()
                if (current := self.cache.get(slug, fmt.filename)) is not None
            }
            # Rendered and gzipped in a worker; brotli follows later, in the background.
            rendered = await self.pool.render(self.context, section, articles, etags)
            for piece in rendered:
                fmt_name, fitted = piece.format, piece.fitted
                # `generated` is the clock read above: never later than a response's Date
                # (RFC 9110), so two changes in one second share a Last-Modified; the ETag
                # tells them apart. Which render is newer is decided by `seq`, never by times.
                doc = FeedDocument(section.slug, piece.filename, fitted.body, now, seq)
                current = self.cache.get(slug, doc.name)
                changed = current is None or current.body != doc.body
                if changed:
                    fresh.append(doc)
                    made.append(ServedFeed.rendered(doc, piece.etag, piece.gzip))
                result.formats.append(
                    FormatResult(
                        fmt_name,
                        fitted.items,
                        len(doc.body),
                        changed,
                        "",
                        fitted.shortened,
                        fitted.left_out,
                        fitted.failed,
                    )
                )
                if current is not None and not changed:
                    served.append(current)
            served.extend(made)
            done_seq = seq
            if fresh:
                await self.store.save_feeds(fresh)
                # Another process may have saved a render of a newer store state first: then
                # that one is served here too, and this section counts as done only as far as
                # the stored feeds go.
                stored = {d.name: d for d in await self.store.load_feeds(slug)}
                # Lost only to a render of a newer state (the order the store's save keeps): a
                # read that saw an older snapshot (SQLite's reader, mid-transaction) is no
                # reason to serve older bytes.
                lost = {
                    d.name
                    for d in fresh
                    if (other := stored.get(d.name)) is not None
                    and other.body != d.body
                    and (other.seq, other.generated) > (d.seq, d.generated)
                }
                for name in lost:
                    self.cache.put(stored[name])
                    done_seq = min(done_seq, stored[name].seq)
                made = [m for m in made if m.name not in lost]
                served = [m for m in served if m.name not in lost]
                served.extend(c for n in lost if (c := self.cache.get(slug, n)) is not None)
            for item in made:
                self.cache.put_served(item)
            # Memory is the truth, files are a copy: written after the cache, so a feeds folder
            # that cannot be written never keeps new bytes from being served. Files are checked
            # every run (publish skips identical bytes), so a deleted or stale folder heals.
            result.files_error = await self._write_files(slug, self._publish_files, served)
            if made:
                task = asyncio.ensure_future(self._add_brotli(made))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            etags = {s.name: s.etag for s in served}
            for fr in result.formats:
                fr.etag = etags.get(FORMATS[fr.format].filename, "")
            self.generated_seq[slug] = done_seq
            result.seq = done_seq
        except Exception as exc:  # one bad section must not stop the others
            log.exception("regenerate: section %s failed", slug)
            result.generated_at = result.generated_at or self.clock()
            result.error = f"{type(exc).__name__}: {exc}"
        result.milliseconds = (time.perf_counter() - started) * 1000
        self.last[slug] = result
        log.info(
            "regenerated section=%s items=%d changed=%s ms=%.1f seq=%d error=%s",
            slug,
            result.items,
            "true" if result.changed else "false",
            result.milliseconds,
            result.seq,
            _logfmt(result.error),
        )
        for observer in self.observers:
            observer(result)
        if result.changed:
            names = [f.format for f in result.formats if f.changed]
            for listener in self.listeners:
                try:
                    await listener(slug, names)
                except Exception:
                    log.exception("regenerate: change listener failed for %s", slug)
        return result

    async def _write_files(
        self, what: str, write: Callable[..., object], *args: object
    ) -> str | None:
        """Run one write into the feeds folder off the loop; its error in words, or None."""
        try:
            await asyncio.to_thread(write, *args)
        except OSError as exc:
            log.warning("regenerate: cannot write %s into %s: %s", what, self.feeds_dir, exc)
            self._files_behind.add(what)
            return f"feeds folder: {type(exc).__name__}: {exc}"
        self._files_behind.discard(what)
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
            )

    async def _add_brotli(self, documents: list[ServedFeed]) -> None:
        for doc in documents:
            try:
                br = await asyncio.to_thread(publish.brotli_bytes, doc.body)
                if self.cache.add_brotli(doc.section, doc.name, doc.body, br):
                    await asyncio.to_thread(
                        publish.write_copy,
                        self.feeds_dir,
                        doc.section,
                        doc.name,
                        ".br",
                        br,
                        mtime=doc.last_modified.timestamp(),
                    )
            except OSError as exc:  # the feeds folder: the run's own write reports it
                log.warning("regenerate: brotli copy of %s/%s: %s", doc.section, doc.name, exc)
            except Exception:  # a missing .br only costs bytes: gzip still serves
                log.exception("regenerate: brotli copy of %s/%s failed", doc.section, doc.name)

    async def settle(self) -> None:
        """Wait for background work (brotli copies) to finish: before exit, or in tests."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def load_published(self, section: str | None = None) -> int:
        """Fill the serving cache from the store (at start, or when another process wrote).

        The feeds folder gets the same bytes: every process's SYNDICATE_FEEDS_DIR is its own
        copy of what it serves (for a static server or CDN origin), leader or not. Memory
        first: a folder that cannot be written never keeps the new bytes from being served.
        """
        docs = await self.store.load_feeds(section)
        served = [self.cache.put(doc) for doc in docs]
        try:
            await asyncio.to_thread(self._publish_files, served)
        except Exception:
            log.exception("regenerate: cannot write loaded feeds to %s", self.feeds_dir)
        return len(docs)


def _seq_of(slug: str, seqs: dict[str, int]) -> int:
    """The seq a section's feeds depend on: its own, or the newest of all for `all`."""
    return max(seqs.values(), default=0) if slug == ALL_SECTION else seqs.get(slug, 0)


def _logfmt(value: str | None) -> str:
    """A log value in key=value form: `-` for none, quoted when it has spaces or quotes."""
    if value is None:
        return "-"
    if any(c in value for c in ' "=\n\t'):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
    return value


def _coalesced(result: SectionResult) -> SectionResult:
    return SectionResult(
        section=result.section,
        formats=result.formats,
        milliseconds=result.milliseconds,
        generated_at=result.generated_at,
        error=result.error,
        coalesced=True,
        seq=result.seq,
    )
