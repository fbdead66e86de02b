"""Coalescing: one run per section at a time, shared by everyone who needs what it reads.

A caller needs the section regenerated from a store at least as new as the change seq it
saw (`needed_seq`). A run in progress that read the store after that covers it (the caller
joins it); otherwise, when that run ends, one follow-up run is started, shared by everyone
who was waiting for it. A cancelled caller never cancels a run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from syndicate.pipeline.regenerate.results import SectionResult

Run = Callable[[str], Awaitable[SectionResult]]


class Runs:
    """Runs of `run(slug)`, at most one per section at a time."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._running: dict[str, asyncio.Task[SectionResult]] = {}

    async def result(self, slug: str, needed_seq: int) -> SectionResult:
        """A run's result that reflects the store as of `needed_seq` (or a failed run's)."""
        while True:
            run = self._running.get(slug)
            if run is None:
                return await asyncio.shield(self._start(slug))
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
                return result.joined()
            # Otherwise loop: the first waiter starts the one follow-up, the rest join it.

    def running(self, slug: str) -> bool:
        return slug in self._running

    def _start(self, slug: str) -> asyncio.Task[SectionResult]:
        """Run one section in its own task, so a cancelled caller never cancels the run."""

        async def run() -> SectionResult:
            try:
                return await self._run(slug)
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
