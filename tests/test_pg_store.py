"""What only PostgreSQL must do, beyond the store contract (`test_store_contract.py`):
schemas named in the URL, and several processes on one database (migrations, leadership,
notifications, concurrent writers, releases, sessions that die)."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime

import asyncpg
import pytest

from syndicate.core.model import FeedDocument
from syndicate.store.postgres import PostgresStore, split_url
from tests.helpers.processes import clean_env
from tests.helpers.records import store_record
from tests.helpers.stores import PgFactory, pg_server_url

NOW = datetime(2024, 6, 19, 12, 0, tzinfo=UTC)
pg = pytest.mark.postgres  # every test here but the first needs a server


def test_schema_can_come_from_the_url() -> None:
    dsn, schema = split_url("postgresql://u@h:5432/db?options=-csearch_path%3Dmine&sslmode=off")
    assert (dsn, schema) == ("postgresql://u@h:5432/db?sslmode=off", "mine")
    assert split_url("postgresql://u@h/db?schema=other") == ("postgresql://u@h/db", "other")
    assert split_url("postgresql://u@h/db") == ("postgresql://u@h/db", None)


@pg
async def test_pg_processes_starting_together_migrate_once(pg_factory: PgFactory) -> None:
    stores = [pg_factory() for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    await stores[0].put(store_record(), now=NOW)
    assert [a.id for a in await stores[3].latest("global", 5, now=NOW)] == ["a1"]


@pg
async def test_pg_only_one_process_leads_until_it_closes(pg_factory: PgFactory) -> None:
    first, second = pg_factory(), pg_factory()
    await first.open()
    await second.open()
    assert await first.try_lead() is True
    assert await second.try_lead() is False
    assert await first.try_lead() is True
    await first.resign()
    assert await second.try_lead() is True
    assert await first.try_lead() is False
    await second.close()
    # The server frees a session lock when it notices the session ended: poll briefly.
    deadline = asyncio.get_running_loop().time() + 10
    while not await first.try_lead():
        assert asyncio.get_running_loop().time() < deadline, "lock not released after close"
        await asyncio.sleep(0.05)


_LEADER_SCRIPT = """
import asyncio, sys
from syndicate.store.postgres import PostgresStore

async def main():
    store = PostgresStore(sys.argv[1], schema=sys.argv[2])
    await store.open()
    print("leading" if await store.try_lead() else "not leading", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@pg
async def test_pg_leadership_moves_when_the_leader_is_killed(
    pg_location: tuple[str, str],
) -> None:
    url, schema = pg_location
    env = clean_env()
    leader = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _LEADER_SCRIPT, url, schema, stdout=asyncio.subprocess.PIPE, env=env
    )
    follower = PostgresStore(url, schema=schema)
    try:
        assert leader.stdout is not None
        line = await asyncio.wait_for(leader.stdout.readline(), timeout=30)
        assert line.strip() == b"leading"
        await follower.open()
        assert await follower.try_lead() is False
        leader.send_signal(signal.SIGKILL)
        await leader.wait()
        deadline = asyncio.get_running_loop().time() + 10
        while not await follower.try_lead():
            assert asyncio.get_running_loop().time() < deadline, "leadership did not move"
            await asyncio.sleep(0.1)
    finally:
        if leader.returncode is None:
            leader.kill()
            await leader.wait()
        await follower.close()


@pg
async def test_pg_saved_feeds_notify_the_other_process(pg_factory: PgFactory) -> None:
    listener, saver = pg_factory(), pg_factory()
    await listener.open()
    await saver.open()
    heard: list[str] = []
    arrived = asyncio.Event()

    def on_feeds(section: str) -> None:
        heard.append(section)
        if section == "sport":
            arrived.set()

    await listener.subscribe_feeds(on_feeds)
    await saver.save_feeds([FeedDocument("sport", "rss.xml", b"<rss/>", NOW)])
    await asyncio.wait_for(arrived.wait(), timeout=10)
    assert "sport" in heard
    [doc] = await listener.load_feeds("sport")
    assert doc.body == b"<rss/>"


@pg
async def test_pg_concurrent_writers_are_seen_once_in_seq_order(pg_factory: PgFactory) -> None:
    """A partner following the log while two processes write must see every change once."""
    writer_a, writer_b, reader = pg_factory(), pg_factory(), pg_factory()
    for s in (writer_a, writer_b, reader):
        await s.open()
    done = asyncio.Event()
    seen: list[int] = []

    async def follow() -> None:
        cursor = 0
        while True:
            finished = done.is_set()  # read before pulling, so the last pull sees everything
            changes = await reader.changes_since("global", cursor, 1000, include_held=False)
            seen.extend(c.seq for c in changes)
            cursor = changes[-1].seq if changes else cursor
            if finished and not changes:
                return
            await asyncio.sleep(0)

    async def write(writer: PostgresStore, prefix: str) -> None:
        await asyncio.gather(
            *(writer.put(store_record(f"{prefix}{i}"), now=NOW) for i in range(60))
        )

    follower = asyncio.create_task(follow())
    await asyncio.gather(write(writer_a, "a"), write(writer_b, "b"))
    done.set()
    await asyncio.wait_for(follower, timeout=30)
    assert len(seen) == 120 and seen == sorted(set(seen))
    assert seen == list(range(1, 121))


@pg
async def test_pg_release_due_from_two_processes_releases_once(pg_factory: PgFactory) -> None:
    first, second = pg_factory(), pg_factory()
    await first.open()
    await second.open()
    await first.put_many(
        [store_record(f"e{i}", embargo_until="2024-06-19T13:00:00+00:00") for i in range(20)],
        now=NOW,
    )
    release_time = datetime(2024, 6, 19, 13, 0, tzinfo=UTC)
    results = await asyncio.gather(
        *(s.release_due(now=release_time) for s in (first, second, first, second))
    )
    released = [a.id for batch in results for a in batch]
    assert sorted(released) == sorted(f"e{i}" for i in range(20))
    public = await first.changes_since("global", 0, 100, include_held=False)
    assert [c.kind for c in public] == ["released"] * 20


async def _terminate_backend(pid: int | None) -> None:
    """Kill one server session, as a network failure or a DBA would."""
    assert pid is not None
    conn = await asyncpg.connect(pg_server_url(), timeout=5)
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


@pg
async def test_pg_leader_whose_session_breaks_stops_leading(pg_factory: PgFactory) -> None:
    first, second = pg_factory(), pg_factory()
    await first.open()
    await second.open()
    assert await first.try_lead() is True
    await _terminate_backend(first._leadership.server_pid if first._leadership else None)
    deadline = asyncio.get_running_loop().time() + 10
    while not await second.try_lead():
        assert asyncio.get_running_loop().time() < deadline, "leadership did not move"
        await asyncio.sleep(0.05)
    assert await first.try_lead() is False
    await second.resign()
    assert await first.try_lead() is True


@pg
async def test_pg_feed_listener_reconnects_after_its_session_dies(pg_factory: PgFactory) -> None:
    listener, saver = pg_factory(), pg_factory()
    await listener.open()
    await saver.open()
    arrived = asyncio.Event()
    await listener.subscribe_feeds(lambda section: arrived.set() if section == "tech" else None)
    await _terminate_backend(listener._listener.server_pid if listener._listener else None)
    # Sent while the listener may still be away: heard live, or through the resync after it.
    await saver.save_feeds([FeedDocument("tech", "rss.xml", b"<rss/>", NOW)])
    await asyncio.wait_for(arrived.wait(), timeout=15)
