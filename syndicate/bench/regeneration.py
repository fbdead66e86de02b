"""Measuring regeneration in-process: one section, a full pass cold and warm, a dirty pass.

Each run gets its own render pool, so the worker's fragment cache is exactly as the figure
says: empty for a cold pass (a new leader's first run), warm for the timer's runs.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

from syndicate.bench import corpus
from syndicate.core.config import Settings
from syndicate.pipeline.regenerate import Regenerator
from syndicate.pipeline.render_pool import RenderPool, default_workers
from syndicate.pipeline.served import FeedCache
from syndicate.store.base import Store


def regenerator(settings: Settings, store: Store, *, cache_mb: int | None = None) -> Regenerator:
    """A regenerator with a pool of its own (workers as configured, fragments as asked)."""
    mb = settings.render_cache_mb if cache_mb is None else cache_mb
    workers = default_workers() if settings.render_workers is None else settings.render_workers
    pool = RenderPool(workers, mb * 1024 * 1024)
    pool.start()  # as the app does at start: spawning workers is not what is measured
    return Regenerator(settings, store, FeedCache(), pool=pool)


async def section_ms(settings: Settings, store: Store, section: str, repeats: int) -> float:
    """Median time to regenerate one section's three feeds from scratch (nothing cached)."""
    times = []
    regen = regenerator(settings, store, cache_mb=0)
    try:
        for run in range(repeats + 2):
            regen.cache.drop(section)  # force render, compress, publish and save
            started = time.perf_counter()
            results = await regen.regenerate([section])
            if run >= 2:  # the first two warm caches (worker, page cache, SQLite) and go
                times.append((time.perf_counter() - started) * 1000)
            await regen.settle()  # background brotli must not bleed into the next run
            if results[0].error:
                raise RuntimeError(f"regenerating {section}: {results[0].error}")
    finally:
        regen.pool.close()
    return statistics.median(times)


async def full_pass(settings: Settings, store: Store, runs: int = 3) -> dict[str, float]:
    """Every section and `all`, every format: cold (no fragments, empty serving cache: the
    first run ever, the worst case), the median of `runs` such passes, each with a new pool
    (one pass swung by ±30% between runs here); then warm (the timer's hourly full pass:
    nothing changed, every fragment known), after the last."""
    colds, warm, documents = [], 0.0, 0
    for _ in range(runs):
        regen = regenerator(settings, store)
        try:
            times = []
            for _ in range(2):
                started = time.perf_counter()
                results = await regen.regenerate()
                times.append(time.perf_counter() - started)
                await regen.settle()
                errors = [r.error for r in results if r.error]
                if errors:
                    raise RuntimeError(f"full pass: {errors[0]}")
            documents = sum(len(r.formats) for r in results)
        finally:
            regen.pool.close()
        colds.append(times[0])
        warm = times[1]
    cold = statistics.median(colds)
    return {
        "seconds": cold,
        "documents": documents,
        "ms_per_doc": cold * 1000 / documents,
        "warm_ms_per_doc": warm * 1000 / documents,
    }


async def dirty_pass_ms(
    settings: Settings, store: Store, section: str, repeats: int, seed: int
) -> float:
    """Median time of the timer's run after one new article in one section: that section's
    three feeds and `all`, fragments warm (the common case)."""
    regen = regenerator(settings, store)
    times = []
    try:
        await regen.regenerate()
        await regen.settle()
        records = corpus.corpus(repeats + 2, seed=seed, start=10_000_000, sections=(section,))
        for run, record in enumerate(records):
            # Newest of all, so it enters both feeds.
            record = dict(record, published=datetime.now(UTC).isoformat())
            await store.put(record, now=datetime.now(UTC))
            started = time.perf_counter()
            results = await regen.regenerate(only_changed=True)
            if run >= 2:
                times.append((time.perf_counter() - started) * 1000)
            await regen.settle()
            done = sorted(r.section for r in results)
            if any(r.error for r in results) or done != sorted([section, "all"]):
                raise RuntimeError(f"dirty pass regenerated {done}: {results}")
    finally:
        regen.pool.close()
    return statistics.median(times)


__all__ = ["dirty_pass_ms", "full_pass", "regenerator", "section_ms"]
