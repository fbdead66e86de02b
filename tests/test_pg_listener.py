"""The feed-change listener always comes back, says when it cannot, and never blocks shutdown.

Faults are made for real where PostgreSQL can make them (`pg_terminate_backend` on the
listener's own backend); a failing catch-up is planted by replacing the store's resync query.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from syndicate.core.errors import StoreError
from syndicate.core.model import FeedDocument
from syndicate.store import postgres as postgres_module
from syndicate.store.postgres import PostgresStore
from syndicate.web.keys import REGENERATOR, STORE
from tests.helpers.clients import running_app, scrape
from tests.helpers.settings import build_settings
from tests.helpers.stores import PgFactory
from tests.helpers.tokens import editor_header
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.postgres


async def _cut(store: PostgresStore, pid: int | None) -> None:
    assert pid is not None
    await store.pool.execute("SELECT pg_terminate_backend($1)", pid)


def _failing(times: int, real: Callable[[], Awaitable[list[str]]]) -> Callable[[], Any]:
    left = [times]

    async def resync() -> list[str]:
        if left[0] != 0:
            left[0] -= 1
            cause = asyncpg.exceptions.QueryCanceledError("canceling statement due to timeout")
            raise StoreError("store: database unavailable") from cause
        return await real()

    return resync


async def test_a_failed_catch_up_is_retried_and_later_changes_are_heard(
    pg_factory: PgFactory,
) -> None:
    ours, theirs = pg_factory(), pg_factory()
    await ours.open()
    await theirs.open()
    heard: list[str] = []
    await ours.subscribe_feeds(heard.append)
    listener = ours._listener
    assert listener is not None
    listener._resync = _failing(1, listener._resync)
    cut_pid = listener.server_pid
    await _cut(theirs, cut_pid)

    async def got_it() -> bool:
        # Saved again on every poll: a save before the listener is back is lost by design
        # (the catch-up would reload it, which is not what this test is about).
        await theirs.save_feeds([FeedDocument("later", "rss.xml", b"<rss/>", datetime.now(UTC))])
        return "later" in heard and listener.server_pid not in (None, cut_pid)

    await wait_until(got_it, timeout=15, what="a NOTIFY after a failed catch-up")
    assert listener.errors == 2  # the cut, then the catch-up
    assert listener.last_error == "catch-up: QueryCanceledError"
    assert ours.health()["feed_listener"]["errors"] == 2


async def test_shutdown_closes_the_lock_and_pool_whatever_the_listener_did(
    pg_factory: PgFactory,
) -> None:
    ours, theirs = pg_factory(), pg_factory()
    await ours.open()
    await theirs.open()
    await ours.subscribe_feeds(lambda _s: None)
    assert await ours.try_lead()
    listener = ours._listener
    assert listener is not None
    listener._resync = _failing(-1, listener._resync)  # every catch-up fails
    await _cut(theirs, listener.server_pid)

    async def failed_catch_up() -> bool:
        return getattr(listener, "last_error", None) == "catch-up: QueryCanceledError" or (
            listener._task is not None and listener._task.done()
        )

    await wait_until(failed_catch_up, timeout=15, what="a failed catch-up")
    await ours.close()  # must neither raise nor leave the lock session behind

    async def took_over() -> bool:
        return await theirs.try_lead()

    await wait_until(took_over, timeout=5, what="the other store to take the timer")


async def test_healthz_says_degraded_while_the_database_is_not_heard(
    tmp_path: Path, pg_url: str
) -> None:
    settings = build_settings(tmp_path, database_url=pg_url)
    async with running_app(settings) as client:
        store = client.app[STORE]
        assert isinstance(store, PostgresStore)
        listener = store._listener
        assert listener is not None
        listener.silent_after = 0.5
        real_connect = listener._connect

        async def refused() -> Any:
            raise ConnectionRefusedError("no route to the database")

        listener._connect = refused
        await _cut(store, listener.server_pid)

        async def healthz(expected: int) -> bool:
            response = await client.get("/healthz")
            body = await response.json()
            return response.status == expected and body["status"] == (
                "degraded" if expected == 503 else "ok"
            )

        started = time.monotonic()
        await wait_until(lambda: healthz(503), timeout=5, what="/healthz to say degraded")
        assert time.monotonic() - started < 5
        status = await client.get("/api/status", headers=await editor_header(client))
        assert (await status.json())["store"]["degraded"] is True
        metrics = await scrape(client)
        assert "syndicate_store_degraded 1.0" in metrics.splitlines()
        listener._connect = real_connect
        await wait_until(lambda: healthz(200), timeout=15, what="/healthz to recover")


async def test_a_save_made_while_a_process_starts_is_served_by_it(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process loads what is stored, then hears of later saves: a save between its load and
    its LISTEN was heard by no one, and it served nothing of it until the next save (CI saw a
    follower start with no feeds this way). It listens first now."""
    theirs = PostgresStore(pg_url)
    await theirs.open()
    theirs_body = b"<rss>saved by another process meanwhile</rss>"
    real = PostgresStore.load_feeds
    saved: list[bool] = []

    async def load_then_another_saves(self: PostgresStore, section: str | None = None) -> Any:
        loaded = await real(self, section)
        if not saved:  # the start-up load has read the store; now the other process saves
            saved.append(True)
            doc = FeedDocument("global", "rss.xml", theirs_body, datetime.now(UTC), 1)
            await theirs.save_feeds([doc])
        return loaded

    monkeypatch.setattr(PostgresStore, "load_feeds", load_then_another_saves)
    settings = build_settings(tmp_path, database_url=pg_url, run_scheduler=False)
    try:
        async with running_app(settings) as client:
            regenerator = client.app[REGENERATOR]

            async def serves_it() -> bool:
                served = regenerator.served("global", "rss.xml")
                return served is not None and served.body == theirs_body

            await wait_until(serves_it, timeout=10, what="the save made during the start")
    finally:
        await theirs.close()


async def test_a_connection_never_released_does_not_hold_the_store_open_for_good(
    pg_factory: PgFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # CI: a server asked to stop sat in asyncpg's graceful `Pool.close()`, which waits for
    # every connection to come back, past its supervisor's 10 s.
    monkeypatch.setattr(postgres_module, "POOL_CLOSE_SECONDS", 0.2)
    store = pg_factory()
    await store.open()
    pool = store.pool
    held = await pool.acquire()  # and never released
    pid = held.get_server_pid()
    started = time.monotonic()
    await asyncio.wait_for(store.close(), 10)
    assert time.monotonic() - started < 5
    assert "still in use" in caplog.text
    other = pg_factory()
    await other.open()
    try:

        async def session_gone() -> bool:
            sql = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"
            return await other.pool.fetchval(sql, pid) == 0

        await wait_until(session_gone, timeout=10, what="the held session to end")
    finally:
        await other.close()
