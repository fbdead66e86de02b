"""WebSub publishing: tell the hub which feed URLs changed after a regeneration.

A `Regenerator` listener that only starts background pings (never holds up regeneration);
each ping is retried with exponential backoff, its outcome kept for status and metrics.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from syndicate.core.clock import Clock, utc_now
from syndicate.core.config import Settings
from syndicate.render import FORMATS, FeedContext
from syndicate.service.metrics import Metrics

log = logging.getLogger("syndicate.websub")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class FeedPings:
    """What happened to the pings for one feed URL."""

    ok: int = 0
    failed: int = 0  # pings given up after every try
    retries: int = 0
    last_ok: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "failed": self.failed,
            "retries": self.retries,
            "last_ok": self.last_ok.isoformat() if self.last_ok else None,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
        }


class WebSubPublisher:
    """Posts `hub.mode=publish&hub.url=<feed>` to the hub for every feed that changed.

    Use as a `Regenerator.listeners` entry; `start()` / `close()` bracket its HTTP session.
    One ping per feed URL is in flight at a time; a change during it sends one more after.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        metrics: Metrics | None = None,
        tries: int = 3,
        backoff: float = 0.5,
        timeout: float = 10.0,
        clock: Clock = utc_now,
    ) -> None:
        assert settings.websub_hub, "WebSubPublisher needs settings.websub_hub"
        self.hub: str = settings.websub_hub
        self.context = FeedContext.from_settings(settings)
        self.metrics = metrics
        self.tries = max(1, tries)
        self.backoff = backoff
        self.timeout = timeout
        self.clock = clock
        self.feeds: dict[str, FeedPings] = {}
        self._session: aiohttp.ClientSession | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __call__(self, section: str, formats: list[str]) -> None:
        """The listener: start pings for the changed feeds of `section`, return at once."""
        for name in formats:
            fmt = FORMATS.get(name)
            if fmt is not None:
                self.notify(self.context.feed_url(section, fmt.filename))

    def notify(self, feed_url: str) -> None:
        if self._session is None:
            return  # not started, or closing
        if feed_url in self._tasks:
            # The hub fetches the feed when our ping lands; one more ping after it covers
            # this change too, however many come in meanwhile.
            self._again.add(feed_url)
            return
        task = asyncio.get_running_loop().create_task(
            self._ping_until_quiet(feed_url), name=f"websub-{feed_url}"
        )
        self._tasks[feed_url] = task

    async def idle(self) -> None:
        """Wait until no ping is in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def _ping_until_quiet(self, feed_url: str) -> None:
        try:
            while True:
                self._again.discard(feed_url)
                await self._ping(feed_url)
                if feed_url not in self._again:
                    return
        finally:
            # No await between the last check and here: a change cannot slip in unseen.
            self._tasks.pop(feed_url, None)

    async def _ping(self, feed_url: str) -> None:
        stats = self.feeds.setdefault(feed_url, FeedPings())
        for attempt in range(1, self.tries + 1):
            error = await self._post(feed_url)
            if error is None:
                stats.ok += 1
                stats.last_ok = self.clock()
                self._count("ok")
                log.info(
                    "websub ping hub=%s url=%s outcome=ok tries=%d", self.hub, feed_url, attempt
                )
                return
            stats.last_error = error
            stats.last_error_at = self.clock()
            if attempt < self.tries:
                stats.retries += 1
                self._count("retry")
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        stats.failed += 1
        self._count("failed")
        log.warning(
            'websub ping hub=%s url=%s outcome=failed tries=%d error="%s"',
            self.hub,
            feed_url,
            self.tries,
            stats.last_error,
        )

    async def _post(self, feed_url: str) -> str | None:
        """One publish notification; None on a 2xx answer, else what went wrong."""
        session = self._session
        if session is None:
            return "not started"
        try:
            async with session.post(
                self.hub, data={"hub.mode": "publish", "hub.url": feed_url}
            ) as response:
                if 200 <= response.status < 300:
                    return None
                text = (await response.text(errors="replace"))[:200]
                return f"hub answered {response.status}: {text}".strip()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}"

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.websub.labels(outcome).inc()

    def status(self) -> dict[str, Any]:
        """For `GET /api/status`: the hub, per-feed outcomes and totals."""
        errors = [s for s in self.feeds.values() if s.last_error_at is not None]
        newest = max(errors, key=lambda s: s.last_error_at or _EPOCH, default=None)
        return {
            "hub": self.hub,
            "last_error": newest.last_error if newest else None,
            "last_error_at": newest.last_error_at.isoformat()
            if newest and newest.last_error_at
            else None,
            "in_flight": len(self._tasks),
            "ok": sum(s.ok for s in self.feeds.values()),
            "failed": sum(s.failed for s in self.feeds.values()),
            "retries": sum(s.retries for s in self.feeds.values()),
            "feeds": {url: s.as_dict() for url, s in sorted(self.feeds.items())},
        }
