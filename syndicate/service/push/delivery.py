"""Delivery to push destinations: each change a partner would see in a pull, POSTed to them.

What a destination receives is decided by the one delivery rule (`syndicate.core.delivery`) over
the change log, the partner's entitlements narrowed to the destination's sections. The change
log is the outbox: it is written in the change's own transaction, and a destination's
`position` (the seq delivered through) moves only after the receiver answered 2xx, so a crash
anywhere loses nothing. It may repeat the last delivery, and receivers drop a repeat by its
`Idempotency-Key`.

Each destination has its own task. A slow or dead receiver delays only itself, and the
versions of an item arrive in order. Only the process that runs the timer pushes; when it
dies, the next leader carries on from the stored positions.

Signing: `X-Syndicate-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`
with `X-Syndicate-Timestamp` (Unix seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiohttp

from syndicate.core.clock import Clock, utc_now
from syndicate.core.config import Settings
from syndicate.core.cursor import CursorKey
from syndicate.core.delivery import Audience, notices_by_seq
from syndicate.core.model import Change, Destination, Notice, Token
from syndicate.render.newsml import render_news_item
from syndicate.render.ninjs import render_ninjs_item
from syndicate.render.partner import PartnerContext, item_guid
from syndicate.service.push.destinations import MEDIA_TYPES, cursor_key, replay_scope
from syndicate.store.base import Store

log = logging.getLogger(__name__)

PAGE = 100
POLL_SECONDS = 0.5  # a destination's task looks again this often when nothing woke it
SUPERVISE_SECONDS = 1.0  # how often the set of destinations is read again, likewise
MAX_RESPONSE_BYTES = 64 * 1024  # a receiver's answer is read this far, then dropped
BACKOFF_FIRST, BACKOFF_MAX, RETRY_AFTER_MAX = 0.5, 300.0, 3600.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Syndicate-Signature` value; receivers compute the same and compare in constant
    time (and refuse timestamps far from their clock, against replays)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def item_body(ctx: PartnerContext, notice: Notice, fmt: str, embargoed: bool) -> bytes:
    """The item exactly as the pull's item endpoint serves it."""
    if fmt == "newsml":
        return render_news_item(ctx, notice, embargoed_view=embargoed)
    document = render_ninjs_item(ctx, notice.article, held=notice.held, pubstatus=notice.pubstatus)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass
class Outcome:
    ok: bool
    retry: bool = False  # worth trying again (5xx, 408, 429, timeouts, refused connections)
    retry_after: float | None = None
    error: str = ""


@dataclass
class DestinationState:
    """What status shows beyond the stored counters: in flight, and its oldest waiting change."""

    in_flight: bool = False
    oldest_waiting: datetime | None = None
    queued: int = 0


class Pusher:
    """The delivery tasks of every destination (on the leader)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        leading: Callable[[], bool],
        on_delivered: Callable[[str, float], None] | None = None,
        on_round: Callable[[Destination, int, bool, float], None] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.ctx = PartnerContext.from_settings(settings)
        self._leading = leading
        self._on_delivered = on_delivered
        self._on_round = on_round
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._supervisor: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.states: dict[str, DestinationState] = {}
        self._wakes: dict[str, asyncio.Event] = {}
        # Set when destinations may have changed (one added here): the supervisor looks now.
        self._destinations_changed = asyncio.Event()
        self._key: CursorKey | None = None

    async def start(self) -> None:
        self._key = await cursor_key(self.store)
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.push_timeout),
            connector=aiohttp.TCPConnector(limit_per_host=4),
        )
        self._supervisor = asyncio.ensure_future(self._supervise())

    async def stop(self) -> None:
        tasks = [t for t in (self._supervisor, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()

    def wake(self) -> None:
        """A change (or a destination) was stored here: look now rather than at the next poll."""
        self._destinations_changed.set()
        for wake in self._wakes.values():
            wake.set()

    async def _supervise(self) -> None:
        """Keep one task per destination while this process leads; none when it does not."""
        while True:
            # Cleared before reading: a destination stored while we read wakes us again.
            self._destinations_changed.clear()
            try:
                wanted = (
                    {d.id for d in await self.store.destinations()} if self._leading() else set()
                )
            except Exception as exc:  # the database away: try again at the next round
                log.warning("push: cannot read destinations: %s", exc)
                wanted = set(self._tasks)
            for gone in set(self._tasks) - wanted:
                self._tasks.pop(gone).cancel()
            for new in wanted - set(self._tasks):
                self._tasks[new] = asyncio.ensure_future(self._run(new))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._destinations_changed.wait(), SUPERVISE_SECONDS)

    async def _run(self, destination_id: str) -> None:
        state = self.states.setdefault(destination_id, DestinationState())
        wake = self._wakes.setdefault(destination_id, asyncio.Event())
        while True:
            # Cleared before the round reads the queue: a change stored while it runs (after
            # its read) sets it again, and the next round starts at once, not a poll later.
            wake.clear()
            try:
                moved = await self._round(destination_id, state)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug or the database: keep the task, try again shortly
                log.exception("push: %s: delivery round failed", destination_id)
                moved = False
            if not moved:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL_SECONDS)

    async def _round(self, destination_id: str, state: DestinationState) -> bool:
        """Deliver what waits after the position; True if the position moved."""
        found = {d.id: d for d in await self.store.destinations()}
        destination = found.get(destination_id)
        if destination is None:
            return False
        tokens = {t.id: t for t in await self.store.list_tokens()}
        token = tokens.get(destination.token_id)
        if token is None or token.expired(self.clock()):
            return False  # a revoked or expired partner is pushed nothing
        sections = [s for s in destination.sections if s in token.sections]
        if not sections:
            return False
        page = await self.store.changes_after(destination.position, sections, PAGE)
        state.queued = len(page)
        state.oldest_waiting = page[0].article.version_created if page else None
        if self._on_round is not None:
            oldest = state.oldest_waiting
            age = (self.clock() - oldest).total_seconds() if oldest else 0.0
            self._on_round(destination, len(page), state.in_flight, age)
        if not page:
            return False
        audience = Audience(frozenset(sections), token.embargoed)
        histories = await self.store.histories(sorted({c.article.id for c in page}), page[-1].seq)
        told = notices_by_seq(histories, audience)
        for change in page:
            notice = told.get(change.seq)
            if notice is None:  # nothing for this partner in it: just move past
                await self.store.advance_destination(
                    destination_id, change.seq, delivered=0, when=None
                )
                continue
            state.in_flight = True
            try:
                delivered = await self._deliver(destination, token, change, notice)
            finally:
                state.in_flight = False
            if not delivered:
                return True  # parked as dead: the position moved on
        return True

    async def _deliver(
        self, destination: Destination, token: Token, change: Change, notice: Notice
    ) -> bool:
        """POST one notice until 2xx (True) or it is parked as dead (False)."""
        body = item_body(self.ctx, notice, destination.format, token.embargoed)
        key = f"{item_guid(self.ctx, notice.article)}@{notice.article.version}"
        first_try = time.monotonic()
        attempt = 0
        while True:
            outcome = await self._post(destination, body, key, change.seq)
            if outcome.ok:
                now = self.clock()
                await self.store.advance_destination(
                    destination.id, change.seq, delivered=1, when=now
                )
                made = change.article.version_created
                if self._on_delivered is not None and made is not None:
                    self._on_delivered(destination.id, (now - made).total_seconds())
                return True
            await self.store.push_failed(destination.id, outcome.error)
            waited = time.monotonic() - first_try
            if not outcome.retry or waited >= self.settings.push_dead_after:
                log.warning("push: %s: parked as dead: %s", destination.id, outcome.error)
                await self.store.park_dead(destination.id, change, outcome.error, now=self.clock())
                return False
            delay = random.uniform(0, min(BACKOFF_MAX, BACKOFF_FIRST * 2**attempt))
            if outcome.retry_after is not None:
                delay = max(delay, min(outcome.retry_after, RETRY_AFTER_MAX))
            attempt += 1
            await asyncio.sleep(min(delay, max(0.0, self.settings.push_dead_after - waited)))

    async def _post(self, destination: Destination, body: bytes, key: str, seq: int) -> Outcome:
        assert self._session is not None and self._key is not None
        stamp = str(int(self.clock().timestamp()))
        # Where this delivery is in the destination's stream: an admin replays from it.
        cursor = self._key.encode(
            seq, partner=destination.token_id, section=replay_scope(destination)
        )
        headers = {
            "Content-Type": MEDIA_TYPES[destination.format],
            "X-Syndicate-Timestamp": stamp,
            "X-Syndicate-Signature": sign(destination.secret, stamp, body),
            "X-Syndicate-Destination": destination.id,
            "Idempotency-Key": key,
            "X-Syndicate-Cursor": cursor,
        }
        try:
            async with self._session.post(
                destination.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                await resp.content.read(MAX_RESPONSE_BYTES)
                if 200 <= resp.status < 300:
                    return Outcome(True)
                error = f"HTTP {resp.status}"
                if resp.status == 429:
                    return Outcome(
                        False, True, _retry_after(resp.headers.get("Retry-After")), error
                    )
                # A redirect is not followed (it could lead anywhere): a receiver to fix.
                return Outcome(False, resp.status == 408 or resp.status >= 500, None, error)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return Outcome(False, True, None, f"{type(exc).__name__}: {exc}".rstrip(": "))


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: back off as for any other failure
