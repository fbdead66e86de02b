"""PostgreSQL sessions that outlive a query: timer leadership and feed-change notifications.

Each holds its own connection outside the pool (a session advisory lock and a LISTEN belong to
one session). Only the PostgreSQL store's modules use this one; it never touches tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

# What a lost server, a refused connection or a failed query raise through asyncpg.
# (TimeoutError and ConnectionError are OSErrors.) InternalClientError is what a pooled
# connection the server just ended raises ("cannot switch to state 12"): it derives from
# neither of the others, and a request landing on one must be a 503 like any other outage.
DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)

Connect = Callable[[], Awaitable[Any]]  # -> asyncpg.Connection (untyped library)

_PING_TIMEOUT = 5.0
_HEARTBEAT = 10.0
# Feeds saved while the listener is away are only picked up when it is back (it reloads
# everything then), so after an outage a process follows again within this many seconds.
_MAX_BACKOFF = 10.0
# A process that has heard nothing from the server (no heartbeat answer, no notification, no
# connection) for this long says so in /healthz: it may be serving stale feeds.
_SILENT_AFTER = 3 * _HEARTBEAT


async def _close_quietly(conn: Any) -> None:
    if conn is None or conn.is_closed():
        return
    try:
        await asyncio.wait_for(conn.close(), timeout=_PING_TIMEOUT)
    except DB_ERRORS:
        conn.terminate()
    except asyncio.CancelledError:
        conn.terminate()
        raise


class Leadership:
    """A session-level `pg_try_advisory_lock` on a dedicated connection.

    The lock lives exactly as long as the session: when the holder process dies (even by
    SIGKILL) its socket closes, the backend exits and PostgreSQL releases the lock, so another
    process's next `try_lead()` wins. If our own connection breaks we stop claiming to lead at
    once (the server may already have handed the lock to someone else) and reconnect on the
    next call.
    """

    def __init__(self, connect: Connect, key: int) -> None:
        self._connect = connect
        self._key = key
        self._conn: Any = None
        self._leading = False
        self._guard = asyncio.Lock()

    @property
    def server_pid(self) -> int | None:
        """The backend holding (or contending for) the lock, for logs and tests."""
        return None if self._conn is None else int(self._conn.get_server_pid())

    async def try_lead(self) -> bool:
        async with self._guard:
            try:
                if self._conn is None or self._conn.is_closed():
                    if self._leading:
                        # The session (and with it the lock) is gone already.
                        log.warning("store: leadership connection lost, no longer leading")
                    self._leading = False
                    self._conn = await self._connect()
                if self._leading:
                    # A session lock cannot be lost while the session lives: a round trip
                    # proves the session (and so the lock) is still ours.
                    await self._conn.fetchval("SELECT 1", timeout=_PING_TIMEOUT)
                else:
                    self._leading = bool(
                        await self._conn.fetchval(
                            "SELECT pg_try_advisory_lock($1)", self._key, timeout=_PING_TIMEOUT
                        )
                    )
                    if self._leading:
                        log.info("store: this process now runs the timer")
            except DB_ERRORS as exc:
                if self._leading:
                    log.warning("store: leadership connection lost, no longer leading: %s", exc)
                else:
                    log.warning("store: cannot reach PostgreSQL to contend for the timer: %s", exc)
                self._leading = False
                conn, self._conn = self._conn, None
                await _close_quietly(conn)
            return self._leading

    async def resign(self) -> None:
        async with self._guard:
            if not self._leading:
                return
            self._leading = False
            try:
                await self._conn.fetchval(
                    "SELECT pg_advisory_unlock($1)", self._key, timeout=_PING_TIMEOUT
                )
            except DB_ERRORS:
                # Dropping the session releases the lock as well.
                conn, self._conn = self._conn, None
                await _close_quietly(conn)

    async def close(self) -> None:
        async with self._guard:
            self._leading = False
            conn, self._conn = self._conn, None
            await _close_quietly(conn)


class FeedListener:
    """`LISTEN channel` on a dedicated connection, calling every callback with the payload.

    Best effort: when the connection drops it logs, reconnects with backoff and then calls the
    callbacks once for every section `resync()` names, since notifications sent while we were
    away are lost for good.
    """

    def __init__(
        self, connect: Connect, channel: str, resync: Callable[[], Awaitable[list[str]]]
    ) -> None:
        self._connect = connect
        self._channel = channel
        self._resync = resync
        self._callbacks: list[Callable[[str], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._conn: Any = None
        self.heartbeat = _HEARTBEAT
        self.silent_after = _SILENT_AFTER
        self.errors = 0
        self.last_error: str | None = None
        self._last_heard = time.monotonic()
        self._closing = False

    def health(self) -> dict[str, Any]:
        """For /healthz and /api/status: is this process still hearing about feed changes?"""
        silent = time.monotonic() - self._last_heard
        return {
            "listening": self._listening.is_set(),
            "seconds_since_heard": round(silent, 1),
            "errors": self.errors,
            "last_error": self.last_error,
            "degraded": self._task is not None and silent > self.silent_after,
        }

    def _heard(self) -> None:
        self._last_heard = time.monotonic()

    @property
    def server_pid(self) -> int | None:
        """The backend that LISTENs, while connected; for logs and tests."""
        return None if self._conn is None else int(self._conn.get_server_pid())

    async def add(self, callback: Callable[[str], None], *, wait: float = 10.0) -> None:
        """Register `callback`; on the first call, start listening and wait until we are."""
        self._callbacks.append(callback)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="syndicate-feed-listener")
        try:
            await asyncio.wait_for(self._listening.wait(), timeout=wait)
        except TimeoutError:
            log.warning("store: not yet listening for feed changes; retrying in the background")

    def _deliver(self, section: str) -> None:
        for callback in list(self._callbacks):
            try:
                callback(section)
            except Exception:
                log.exception("store: feed-change callback failed for section %r", section)

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._heard()
        self._deliver(payload)

    async def _run(self) -> None:
        # Whatever fails (connect, LISTEN, the catch-up, a heartbeat, a bug in a callback's
        # caller) is logged, counted and retried: a listener that ends would leave this process
        # serving stale feeds for good, with nothing to show for it.
        delay = 1.0
        caught_up = False
        while not self._closing:
            conn: Any = None
            lost = asyncio.Event()
            stage = "connect"
            try:
                conn = await self._connect()
                conn.add_termination_listener(lambda _c, event=lost: event.set())
                await conn.add_listener(self._channel, self._notified)
                self._conn = conn
                self._heard()
                if caught_up:
                    # Notifications sent while we were away are lost: reload every section.
                    stage = "catch-up"
                    for section in await self._resync():
                        self._deliver(section)
                    log.info("store: listening for feed changes again")
                caught_up = True
                self._listening.set()
                delay = 1.0
                stage = "heartbeat"
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), timeout=self.heartbeat)
                    except TimeoutError:
                        # A half-open TCP connection raises nothing by itself: probe it.
                        await conn.fetchval("SELECT 1", timeout=_PING_TIMEOUT)
                        self._heard()
                raise ConnectionError("connection closed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._listening.clear()
                self.errors += 1
                cause = exc.__cause__ or exc
                # The type, not the driver's text: status is shown to editors.
                self.last_error = f"{stage}: {type(cause).__name__}"
                logged = log.warning if isinstance(cause, DB_ERRORS) else log.exception
                logged(
                    "store: feed-change notifications interrupted at %s (%s: %s); "
                    "reconnecting in %.0fs",
                    stage,
                    type(cause).__name__,
                    cause,
                    delay,
                )
            finally:
                self._conn = None
                await _close_quietly(conn)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF)

    async def close(self) -> None:
        self._closing = True
        task, self._task = self._task, None
        if task is not None:
            # Python 3.11's `wait_for` can swallow a cancellation that lands as its inner
            # await completes (a connect or close finishing just then): cancel until it ends.
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
            # Whatever ended the task before must not stop the caller closing the rest.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._listening.clear()
