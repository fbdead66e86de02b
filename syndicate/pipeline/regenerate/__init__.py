"""The ONE regeneration path: timer, editor API and CLI all call `Regenerator.regenerate`.

`runs` coalesces runs per section, `pipeline` regenerates one section (render in a worker,
keep, serve, copy to files), `results` is what they report. The `Regenerator` here ties them
together and tracks which sections have changes its runs have not rendered yet.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence

from syndicate.core.clock import Clock, utc_now
from syndicate.core.config import ALL_SECTION, Settings
from syndicate.core.errors import NotFound
from syndicate.pipeline import publish
from syndicate.pipeline.regenerate.pipeline import SectionPipeline, seq_of
from syndicate.pipeline.regenerate.results import FormatResult, SectionResult, logfmt
from syndicate.pipeline.regenerate.runs import Runs
from syndicate.pipeline.render_pool import RenderPool, default_workers, shared_pool
from syndicate.pipeline.served import FeedCache, ServedFeed
from syndicate.render import feed_sections
from syndicate.render.opml import render_opml
from syndicate.store.base import Store

__all__ = ["FormatResult", "Regenerator", "SectionResult"]

log = logging.getLogger("syndicate.regenerate")

ChangeListener = Callable[[str, list[str]], Awaitable[None]]
Observer = Callable[[SectionResult], None]


class Regenerator:
    """Regenerates sections; one run per section at a time, concurrent callers share it."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        cache: FeedCache,
        *,
        clock: Clock = utc_now,
        pool: RenderPool | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.cache = cache
        self.clock = clock
        # Rendering runs in worker processes, never on the loop that answers readers.
        workers = settings.render_workers
        self.pool = pool or shared_pool(
            default_workers() if workers is None else workers,
            settings.render_cache_mb * 1024 * 1024,
        )
        self._pipeline = SectionPipeline(settings, store, cache, self.pool, clock)
        self._runs = Runs(self._run)
        # The OPML list depends on the configuration only: rendered once, published with
        # every full regeneration (publish skips it when unchanged).
        self.opml = render_opml(self._pipeline.context, feed_sections(settings))
        self.opml_error: str | None = None
        self._last: dict[str, SectionResult] = {}
        # Per section, the store's change seq its feeds were last generated from, here.
        self._generated: dict[str, int] = {}
        # Called after every section run (metrics), and after runs that changed a feed (WebSub).
        self.observers: list[Observer] = []
        self.listeners: list[ChangeListener] = []

    # -- what the rest of the service reads ------------------------------------------------
    def last_result(self, slug: str) -> SectionResult | None:
        """The last run of `slug` in this process (None before the first)."""
        return self._last.get(slug)

    def served(self, slug: str, name: str) -> ServedFeed | None:
        """What is served now for one feed of a section."""
        return self.cache.get(slug, name)

    def running(self, slug: str) -> bool:
        """Whether a run of `slug` is in progress."""
        return self._runs.running(slug)

    def generated_through(self, slug: str) -> int:
        """The change seq `slug`'s feeds were last generated from here (-1: never)."""
        return self._generated.get(slug, -1)

    def start_afresh(self) -> None:
        """Count every section as changed (a new leader regenerates everything once)."""
        self._generated.clear()

    def waiting(self, seqs: dict[str, int]) -> set[str]:
        """The sections (and `all`) with changes no run of this process has rendered yet."""
        return set(self._dirty(seqs))

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

    def _dirty(self, seqs: dict[str, int]) -> list[str]:
        behind = self._pipeline.files_behind
        dirty = [
            s
            for s in self.settings.section_slugs
            if seqs.get(s, 0) > self.generated_through(s) or s in behind
        ]
        newest = max(seqs.values(), default=0)
        if dirty or newest > self.generated_through(ALL_SECTION) or ALL_SECTION in behind:
            dirty.append(ALL_SECTION)
        return dirty

    # -- regenerating ----------------------------------------------------------------------
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
            self.opml_error = await self._pipeline.write_files(
                "opml.xml",
                functools.partial(publish.publish, seen=self._pipeline.seen),
                self.settings.feeds_dir,
                None,
                "opml.xml",
                self.opml,
            )
        # What the caller must see: the store as it is now (read once for all sections).
        seqs = await self.store.section_seqs()
        if only_changed:
            dirty = set(self._dirty(seqs))
            slugs = [s for s in slugs if s in dirty]
        return list(await asyncio.gather(*(self._runs.result(s, seq_of(s, seqs)) for s in slugs)))

    async def _run(self, slug: str) -> SectionResult:
        result = await self._pipeline.run(slug)
        if result.error is None:
            self._generated[slug] = result.seq
        self._last[slug] = result
        log.info(
            "regenerated section=%s items=%d changed=%s ms=%.1f seq=%d error=%s",
            slug,
            result.items,
            "true" if result.changed else "false",
            result.milliseconds,
            result.seq,
            logfmt(result.error),
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

    async def drain(self) -> None:
        """Wait for the runs in progress (at shutdown, before the store closes)."""
        await self._runs.drain()

    async def settle(self) -> None:
        """Wait for background work (brotli copies) to finish: before exit, or in tests."""
        await self._pipeline.settle()

    async def close(self) -> None:
        """Stop background work, waiting for what is under way (at shutdown, after `drain`)."""
        await self._pipeline.close()

    async def load_published(self, section: str | None = None) -> int:
        """Fill the serving cache (and this process's feeds folder) from the store."""
        return await self._pipeline.load_published(section)
