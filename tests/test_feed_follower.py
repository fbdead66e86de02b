"""Following other processes' saves (the app's feed follower): one reload at a time, so an
older snapshot never lands last, and a failed reload is tried again."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.helpers.waiting import wait_until


class _SlowLoads:
    """A regenerator stand-in whose loads take a while, fail on demand, and are recorded."""

    def __init__(self) -> None:
        self.running = 0
        self.most_at_once = 0
        self.loaded: list[str] = []
        self.failures = 1

    async def load_published(self, section: str | None = None) -> int:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0.01)
            if self.failures:
                self.failures -= 1
                raise RuntimeError("database away")
            self.loaded.append(str(section))
            return 1
        finally:
            self.running -= 1


async def test_saves_elsewhere_reload_one_at_a_time_and_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Loads side by side could finish out of order and cache an older snapshot."""
    from syndicate.web import app as web_app

    monkeypatch.setattr(web_app, "_RELOAD_RETRY_SECONDS", 0.01)
    loads = _SlowLoads()
    follower = web_app._FeedFollower(loads)  # type: ignore[arg-type]
    task = asyncio.create_task(follower.run())
    try:
        for section in ("sport", "sport", "global", "sport"):
            follower.saved(section)
        await wait_until(
            lambda: _done(set(loads.loaded) == {"global", "sport"}),
            timeout=5,
            what="both sections loaded after the failed first try",
        )
        follower.saved("sport")
        await wait_until(
            lambda: _done(len(loads.loaded) >= 3), timeout=5, what="a later save loaded again"
        )
        assert loads.most_at_once == 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _done(value: bool) -> bool:
    return value
