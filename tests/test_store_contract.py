"""The `Store` contract, run against every backend; then what only PostgreSQL must also do.

Fixtures come from `tests/store_fixtures.py`: `store` is parametrised over SQLite and
PostgreSQL (skipped with a reason when no server is configured).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from syndicate.errors import NotFound, PreconditionFailed
from syndicate.model import FeedDocument
from syndicate.store.base import Store
from syndicate.store.postgres import PostgresStore, split_url

NOW = datetime(2024, 6, 19, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
StoreFactory = Callable[[], Store]
PgFactory = Callable[[], PostgresStore]


def article(article_id: str = "a1", **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": article_id,
        "headline": f"खबर {article_id}",
        "body_html": f"<p>पूरी खबर {article_id}</p>",
        "language": "hi",
        "sections": ["global"],
        "published": "2024-06-19T10:00:00+05:30",
        "canonical_url": f"https://news.example/{article_id}",
    }
    record.update(fields)
    return record


def at(hour: int, minute: int = 0) -> str:
    return f"2024-06-19T{hour:02d}:{minute:02d}:00+00:00"


def ids(articles: Any) -> list[str]:
    return [a.id for a in articles]


# -- put / get / versions -------------------------------------------------------------------
async def test_put_creates_then_unchanged_then_updated(store: Store) -> None:
    created = await store.put(article(), now=NOW)
    assert (created.outcome, created.article.version) == ("created", 1)
    assert created.article.status == "published"

    again = await store.put(article(), now=LATER)
    assert (again.outcome, again.article.version) == ("unchanged", 1)
    assert await store.max_seq() == 1

    changed = await store.put(article(headline="नई सुर्खी"), now=LATER)
    assert (changed.outcome, changed.article.version) == ("updated", 2)
    stored = await store.get("a1")
    assert stored is not None
    assert (stored.version, stored.headline) == (2, "नई सुर्खी")
    assert stored.first_created == NOW and stored.version_created == LATER
    assert await store.get("missing") is None


async def test_expected_version_mismatch_is_precondition_failed(store: Store) -> None:
    await store.put(article(), now=NOW)
    with pytest.raises(PreconditionFailed) as failure:
        await store.put(article(headline="x"), expected_version=5, now=NOW)
    assert failure.value.status == 412
    with pytest.raises(PreconditionFailed):
        await store.put(article("new"), expected_version=1, now=NOW)
    assert await store.get("new") is None
    ok = await store.put(article(headline="x"), expected_version=1, now=NOW)
    assert (ok.outcome, ok.article.version) == ("updated", 2)


async def test_withdraw_is_logged_idempotent_and_leaves_latest(store: Store) -> None:
    await store.put(article(), now=NOW)
    withdrawn = await store.withdraw("a1", now=LATER)
    assert (withdrawn.status, withdrawn.version) == ("withdrawn", 2)
    assert await store.latest("global", 10, now=LATER) == []
    assert await store.count("global", now=LATER) == 0
    again = await store.withdraw("a1", now=LATER)
    assert (again.status, again.version) == ("withdrawn", 2)
    changes = await store.changes_since("global", 0, 10, include_held=False)
    assert [(c.kind, c.article.version) for c in changes] == [("created", 1), ("withdrawn", 2)]
    stored = await store.get("a1")
    assert stored is not None and stored.status == "withdrawn"
    with pytest.raises(NotFound):
        await store.withdraw("missing", now=NOW)


async def test_put_after_withdraw_publishes_again(store: Store) -> None:
    await store.put(article(), now=NOW)
    await store.withdraw("a1", now=NOW)
    back = await store.put(article(), now=LATER)
    assert (back.outcome, back.article.version, back.article.status) == ("updated", 3, "published")
    assert ids(await store.latest("global", 10, now=LATER)) == ["a1"]


# -- latest / count -------------------------------------------------------------------------
async def test_latest_orders_by_published_then_id(store: Store) -> None:
    await store.put_many(
        [
            article("old", published=at(8)),
            article("b1", published=at(10)),
            article("B2", published=at(10)),  # bytewise, "B2" sorts before "b1"
            article("a_3", published="2024-06-19T15:30:00+05:30"),  # 10:00 UTC as well
            article("new", published=at(11)),
        ],
        now=NOW,
    )
    assert ids(await store.latest("global", 10, now=NOW)) == ["new", "B2", "a_3", "b1", "old"]
    assert ids(await store.latest(None, 10, now=NOW)) == ["new", "B2", "a_3", "b1", "old"]
    assert ids(await store.latest("global", 2, now=NOW)) == ["new", "B2"]


async def test_latest_section_filter_and_all(store: Store) -> None:
    await store.put_many(
        [
            article("g", sections=["global"], published=at(9)),
            article("s", sections=["sport"], published=at(10)),
            article("both", sections=["global", "sport"], published=at(11)),
        ],
        now=NOW,
    )
    assert ids(await store.latest("global", 10, now=NOW)) == ["both", "g"]
    assert ids(await store.latest("sport", 10, now=NOW)) == ["both", "s"]
    assert ids(await store.latest(None, 10, now=NOW)) == ["both", "s", "g"]
    assert await store.latest("nothing", 10, now=NOW) == []
    assert await store.count("global", now=NOW) == 2
    assert await store.count(None, now=NOW) == 3


async def test_latest_leaves_out_withdrawn_embargoed_and_future(store: Store) -> None:
    await store.put_many(
        [
            article("public", published=at(9)),
            article("gone", published=at(9)),
            article("embargoed", published=at(9), embargo_until=at(13)),
            article("future", published=at(14)),
        ],
        now=NOW,
    )
    await store.withdraw("gone", now=NOW)
    assert ids(await store.latest("global", 10, now=NOW)) == ["public"]
    assert ids(await store.latest(None, 10, now=NOW)) == ["public"]
    assert await store.count("global", now=NOW) == 1
    # Time passing alone makes them public (the release change is a separate matter).
    later = NOW + timedelta(hours=3)
    assert ids(await store.latest("global", 10, now=later)) == ["future", "embargoed", "public"]


async def test_moving_an_article_between_sections(store: Store) -> None:
    await store.put(article(sections=["global"]), now=NOW)
    before = await store.section_seqs()
    await store.put(article(sections=["sport"]), now=LATER)
    assert await store.latest("global", 10, now=LATER) == []
    assert ids(await store.latest("sport", 10, now=LATER)) == ["a1"]
    assert await store.count("global", now=LATER) == 0
    # The old section's partners hear that the article left it.
    left = await store.changes_since("global", 0, 10, include_held=False)
    assert [(c.kind, c.article.sections) for c in left] == [
        ("created", ("global",)),
        ("updated", ("sport",)),
    ]
    after = await store.section_seqs()
    assert after["global"] > before["global"] and after["sport"] == after["global"]


# -- change log -----------------------------------------------------------------------------
async def test_changes_since_orders_filters_and_pages(store: Store) -> None:
    await store.put(article("g1", sections=["global"]), now=NOW)
    await store.put(article("s1", sections=["sport"]), now=NOW)
    await store.put(article("g2", sections=["global", "sport"]), now=NOW)
    await store.put(article("g1", sections=["global"], headline="फिर"), now=NOW)
    changes = await store.changes_since("global", 0, 100, include_held=False)
    assert [(c.article.id, c.kind) for c in changes] == [
        ("g1", "created"),
        ("g2", "created"),
        ("g1", "updated"),
    ]
    seqs = [c.seq for c in changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert ids(
        c.article for c in await store.changes_since("sport", 0, 100, include_held=False)
    ) == [
        "s1",
        "g2",
    ]
    page = await store.changes_since("global", 0, 2, include_held=False)
    rest = await store.changes_since("global", page[-1].seq, 2, include_held=False)
    assert [c.seq for c in page + rest] == seqs
    assert await store.changes_since("global", seqs[-1], 10, include_held=False) == []
    assert await store.max_seq() == 4


async def test_embargoed_change_is_held_then_released_exactly_once(store: Store) -> None:
    await store.put(article("e", embargo_until=at(13)), now=NOW)
    public = await store.changes_since("global", 0, 10, include_held=False)
    assert public == []
    held = await store.changes_since("global", 0, 10, include_held=True)
    assert [(c.kind, c.held) for c in held] == [("created", True)]
    assert await store.release_due(now=NOW) == []

    release_time = datetime(2024, 6, 19, 13, 0, tzinfo=UTC)
    released = await store.release_due(now=release_time)
    assert ids(released) == ["e"]
    assert await store.release_due(now=release_time + timedelta(minutes=1)) == []
    public = await store.changes_since("global", 0, 10, include_held=False)
    assert [(c.kind, c.held, c.article.version) for c in public] == [("released", False, 1)]
    everything = await store.changes_since("global", 0, 10, include_held=True)
    assert [c.kind for c in everything] == ["created", "released"]
    assert await store.pending_releases() == []


async def test_withdrawing_a_held_article_does_not_reveal_it(store: Store) -> None:
    await store.put(article("e", embargo_until=at(13)), now=NOW)
    await store.withdraw("e", now=NOW)
    assert await store.changes_since("global", 0, 10, include_held=False) == []
    assert await store.pending_releases() == []
    assert await store.release_due(now=NOW + timedelta(days=1)) == []


async def test_pending_releases_soonest_first(store: Store) -> None:
    await store.put_many(
        [
            article("late", embargo_until=at(15), sections=["global", "sport"]),
            article("soon", published=at(13)),
            article("now", published=at(9)),
        ],
        now=NOW,
    )
    pending = await store.pending_releases()
    assert [(p[0], p[1], p[2]) for p in pending] == [
        ("soon", datetime(2024, 6, 19, 13, tzinfo=UTC), ("global",)),
        ("late", datetime(2024, 6, 19, 15, tzinfo=UTC), ("global", "sport")),
    ]


async def test_section_seqs_rise_with_each_change(store: Store) -> None:
    assert await store.section_seqs() == {}
    assert await store.max_seq() == 0
    await store.put(article("a", sections=["global"]), now=NOW)
    first = await store.section_seqs()
    await store.put(article("b", sections=["sport"]), now=NOW)
    second = await store.section_seqs()
    assert second["global"] == first["global"] and second["sport"] > first["global"]
    await store.withdraw("a", now=NOW)
    third = await store.section_seqs()
    assert third["global"] > second["sport"] and third["sport"] == second["sport"]
    assert max(third.values()) == await store.max_seq()


# -- tokens, feeds, leadership --------------------------------------------------------------
async def test_tokens_add_and_find(store: Store) -> None:
    editor = await store.add_token(name="desk", role="editor", token_hash="h1", now=NOW)
    partner = await store.add_token(
        name="outlet", role="partner", token_hash="h2", sections=["global"], embargoed=True, now=NOW
    )
    assert editor.id != partner.id
    assert await store.find_token("h1") == editor
    found = await store.find_token("h2")
    assert found == partner and found.sections == ("global",) and found.embargoed
    assert found.may_read("global") and not found.may_read("sport")
    assert await store.find_token("nope") is None


async def test_a_metrics_token_is_stored_on_every_backend(store: Store) -> None:
    # PostgreSQL constrains the role column: a role the migrations do not admit fails here.
    scraper = await store.add_token(name="prometheus", role="metrics", token_hash="h3", now=NOW)
    found = await store.find_token("h3")
    assert found == scraper and found.role == "metrics" and found.sections == ()
    assert not found.may_read("global")


async def test_feeds_save_and_load_bytes_exact(store: Store) -> None:
    body = "<rss>हिन्दी 🗞</rss>".encode() + bytes(range(256))
    docs = [
        FeedDocument("global", "rss.xml", body, NOW),
        FeedDocument("global", "atom.xml", b"<feed/>", NOW),
        FeedDocument("sport", "feed.json", b"{}", NOW),
    ]
    await store.save_feeds(docs)
    await store.save_feeds([])
    loaded = {(d.section, d.name): d for d in await store.load_feeds()}
    assert loaded[("global", "rss.xml")].body == body
    assert loaded[("global", "rss.xml")].generated == NOW
    assert len(loaded) == 3
    await store.save_feeds([FeedDocument("global", "rss.xml", b"new", LATER)])
    global_docs = await store.load_feeds("global")
    assert [(d.name, d.body) for d in global_docs] == [
        ("atom.xml", b"<feed/>"),
        ("rss.xml", b"new"),
    ]
    assert global_docs[1].generated == LATER
    # The same bytes saved again keep the time they were first made (Last-Modified).
    await store.save_feeds([FeedDocument("global", "rss.xml", b"new", LATER + timedelta(hours=1))])
    [again] = [d for d in await store.load_feeds("global") if d.name == "rss.xml"]
    assert again.generated == LATER


async def test_try_lead_in_a_single_process(store: Store) -> None:
    assert await store.try_lead() is True
    assert await store.try_lead() is True
    await store.resign()
    assert await store.try_lead() is True
    await store.resign()


# -- text and volume ------------------------------------------------------------------------
async def test_multilingual_text_round_trips_byte_exact(store: Store) -> None:
    record = article(
        "multi",
        headline="दिल्ली में बारिश — مرحبا بالعالم 🌧️👩🏽‍💻",
        summary="नमस्ते\u200dदुनिया ﷺ e\u0301",
        body_html='<p>हिंदी समाचार</p><p dir="rtl">العربية</p><p>🇮🇳 &amp; "quotes"</p>',
        tags=["मौसम", "طقس", "☔"],
    )
    await store.put(record, now=NOW)
    expected = json.dumps(record, ensure_ascii=False)
    stored = await store.get("multi")
    assert stored is not None
    assert json.dumps(dict(stored.record), ensure_ascii=False) == expected
    assert list(stored.record) == list(record)  # key order too
    [latest] = await store.latest("global", 1, now=NOW)
    assert json.dumps(dict(latest.record), ensure_ascii=False) == expected
    [change] = await store.changes_since("global", 0, 1, include_held=False)
    assert change.article.headline.encode() == record["headline"].encode()
    assert (await store.put(record, now=LATER)).outcome == "unchanged"


async def test_put_many_a_thousand_records(store: Store) -> None:
    records = [
        article(f"bulk-{i:04d}", published=at(i % 12, i % 60), sections=["global", f"s{i % 3}"])
        for i in range(1000)
    ]
    results = await store.put_many(records, now=NOW)
    assert [r.outcome for r in results] == ["created"] * 1000
    assert await store.count(None, now=NOW) == 1000
    assert await store.count("s1", now=NOW) == 333
    assert await store.max_seq() == 1000
    assert len(await store.latest("global", 50, now=NOW)) == 50
    again = await store.put_many(records, now=NOW)
    assert {r.outcome for r in again} == {"unchanged"}
    assert await store.put_many([], now=NOW) == []


async def test_put_many_with_the_same_id_twice(store: Store) -> None:
    results = await store.put_many(
        [article("x"), article("x"), article("x", headline="दूसरा")], now=NOW
    )
    assert [(r.outcome, r.article.version) for r in results] == [
        ("created", 1),
        ("unchanged", 1),
        ("updated", 2),
    ]
    stored = await store.get("x")
    assert stored is not None and (stored.version, stored.headline) == (2, "दूसरा")
    assert await store.count("global", now=NOW) == 1


async def test_reopening_keeps_data_and_applies_no_migration_twice(
    store_factory: StoreFactory,
) -> None:
    first = store_factory()
    await first.open()
    await first.put(article(), now=NOW)
    await first.close()
    second = store_factory()
    await second.open()
    assert ids(await second.latest("global", 10, now=NOW)) == ["a1"]


# -- PostgreSQL only: several processes on one database -------------------------------------
pg = pytest.mark.postgres


def test_schema_can_come_from_the_url() -> None:
    dsn, schema = split_url("postgresql://u@h:5432/db?options=-csearch_path%3Dmine&sslmode=off")
    assert (dsn, schema) == ("postgresql://u@h:5432/db?sslmode=off", "mine")
    assert split_url("postgresql://u@h/db?schema=other") == ("postgresql://u@h/db", "other")
    assert split_url("postgresql://u@h/db") == ("postgresql://u@h/db", None)


@pg
async def test_pg_processes_starting_together_migrate_once(pg_factory: PgFactory) -> None:
    stores = [pg_factory() for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    await stores[0].put(article(), now=NOW)
    assert ids(await stores[3].latest("global", 5, now=NOW)) == ["a1"]


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
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
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
        await asyncio.gather(*(writer.put(article(f"{prefix}{i}"), now=NOW) for i in range(60)))

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
    await first.put_many([article(f"e{i}", embargo_until=at(13)) for i in range(20)], now=NOW)
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
    conn = await asyncpg.connect(os.environ["SYNDICATE_TEST_DATABASE_URL"], timeout=5)
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
