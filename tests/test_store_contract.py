"""The `Store` contract, run against every backend (what only PostgreSQL must also do is in
`test_pg_store.py`).

Fixtures come from `tests/helpers/stores.py`: `store` is parametrised over SQLite and
PostgreSQL (skipped with a reason when no server is configured).
"""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syndicate.core.compression import gzip_fast
from syndicate.core.errors import NotFound, PreconditionFailed
from syndicate.core.model import FeedDocument
from syndicate.core.tokens import new_token
from syndicate.store.base import Store
from syndicate.store.postgres import PostgresStore
from syndicate.store.sqlite import SQLiteStore
from tests.helpers.records import store_record
from tests.helpers.stores import StoreFactory

NOW = datetime(2024, 6, 19, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def at(hour: int, minute: int = 0) -> str:
    return f"2024-06-19T{hour:02d}:{minute:02d}:00+00:00"


def ids(articles: Any) -> list[str]:
    return [a.id for a in articles]


# -- put / get / versions -------------------------------------------------------------------
async def test_put_creates_then_unchanged_then_updated(store: Store) -> None:
    created = await store.put(store_record(), now=NOW)
    assert (created.outcome, created.article.version) == ("created", 1)
    assert created.article.status == "published"

    again = await store.put(store_record(), now=LATER)
    assert (again.outcome, again.article.version) == ("unchanged", 1)
    assert await store.max_seq() == 1

    changed = await store.put(store_record(headline="नई सुर्खी"), now=LATER)
    assert (changed.outcome, changed.article.version) == ("updated", 2)
    stored = await store.get("a1")
    assert stored is not None
    assert (stored.version, stored.headline) == (2, "नई सुर्खी")
    assert stored.first_created == NOW and stored.version_created == LATER
    assert await store.get("missing") is None


async def test_expected_version_mismatch_is_precondition_failed(store: Store) -> None:
    await store.put(store_record(), now=NOW)
    with pytest.raises(PreconditionFailed) as failure:
        await store.put(store_record(headline="x"), expected_version=5, now=NOW)
    assert failure.value.status == 412
    with pytest.raises(PreconditionFailed):
        await store.put(store_record("new"), expected_version=1, now=NOW)
    assert await store.get("new") is None
    ok = await store.put(store_record(headline="x"), expected_version=1, now=NOW)
    assert (ok.outcome, ok.article.version) == ("updated", 2)


async def test_withdraw_is_logged_idempotent_and_leaves_latest(store: Store) -> None:
    await store.put(store_record(), now=NOW)
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
    await store.put(store_record(), now=NOW)
    await store.withdraw("a1", now=NOW)
    back = await store.put(store_record(), now=LATER)
    assert (back.outcome, back.article.version, back.article.status) == ("updated", 3, "published")
    assert ids(await store.latest("global", 10, now=LATER)) == ["a1"]


# -- latest / count -------------------------------------------------------------------------
async def test_latest_orders_by_published_then_id(store: Store) -> None:
    await store.put_many(
        [
            store_record("old", published=at(8)),
            store_record("b1", published=at(10)),
            store_record("B2", published=at(10)),  # bytewise, "B2" sorts before "b1"
            store_record("a_3", published="2024-06-19T15:30:00+05:30"),  # 10:00 UTC as well
            store_record("new", published=at(11)),
        ],
        now=NOW,
    )
    assert ids(await store.latest("global", 10, now=NOW)) == ["new", "B2", "a_3", "b1", "old"]
    assert ids(await store.latest(None, 10, now=NOW)) == ["new", "B2", "a_3", "b1", "old"]
    assert ids(await store.latest("global", 2, now=NOW)) == ["new", "B2"]


async def test_latest_section_filter_and_all(store: Store) -> None:
    await store.put_many(
        [
            store_record("g", sections=["global"], published=at(9)),
            store_record("s", sections=["sport"], published=at(10)),
            store_record("both", sections=["global", "sport"], published=at(11)),
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
            store_record("public", published=at(9)),
            store_record("gone", published=at(9)),
            store_record("embargoed", published=at(9), embargo_until=at(13)),
            store_record("future", published=at(14)),
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
    await store.put(store_record(sections=["global"]), now=NOW)
    before = await store.section_seqs()
    await store.put(store_record(sections=["sport"]), now=LATER)
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
    await store.put(store_record("g1", sections=["global"]), now=NOW)
    await store.put(store_record("s1", sections=["sport"]), now=NOW)
    await store.put(store_record("g2", sections=["global", "sport"]), now=NOW)
    await store.put(store_record("g1", sections=["global"], headline="फिर"), now=NOW)
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
    await store.put(store_record("e", embargo_until=at(13)), now=NOW)
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
    await store.put(store_record("e", embargo_until=at(13)), now=NOW)
    await store.withdraw("e", now=NOW)
    assert await store.changes_since("global", 0, 10, include_held=False) == []
    assert await store.pending_releases() == []
    assert await store.release_due(now=NOW + timedelta(days=1)) == []


async def test_pending_releases_soonest_first(store: Store) -> None:
    await store.put_many(
        [
            store_record("late", embargo_until=at(15), sections=["global", "sport"]),
            store_record("soon", published=at(13)),
            store_record("now", published=at(9)),
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
    await store.put(store_record("a", sections=["global"]), now=NOW)
    first = await store.section_seqs()
    await store.put(store_record("b", sections=["sport"]), now=NOW)
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
    assert await store.save_feeds(docs) == []  # nothing newer stored: nothing won over them
    assert await store.save_feeds([]) == []
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


async def test_stored_articles_decode_to_what_was_put_byte_exact(store: Store) -> None:
    await store.put(
        store_record(headline="हिन्दी 🗞 \u0627\u0644\u0639\u0631\u0628\u064a\u0629"), now=NOW
    )
    [stored] = await store.latest_stored(None, 5, now=LATER)
    assert stored.article() == await store.get("a1")
    if isinstance(store, SQLiteStore):  # its UTF-8 bytes, never decoded on the way (see
        assert isinstance(stored.record_json, bytes)  # changes_sqlite.ARTICLE_COLUMNS)


async def _feed_rows(store: Store) -> dict[tuple[str, str], tuple[str, bytes]]:
    """(section, name) -> (encoding, stored bytes), as the table holds them."""
    sql = "SELECT section, name, encoding, body FROM feeds"
    if isinstance(store, SQLiteStore):
        rows = await store._fetch_all(sql)
    else:
        assert isinstance(store, PostgresStore)
        rows = await store._fetch(sql)
    return {(r[0], r[1]): (r[2], bytes(r[3])) for r in rows}


async def test_feeds_are_kept_gzipped_and_read_back_whole(store: Store) -> None:
    # A fifth of the bytes to write and compare (see store/feed_bodies.py).
    body = ("<rss>" + "<item>हिन्दी खबर</item>" * 5000 + "</rss>").encode()
    made = gzip_fast(body)
    await store.save_feeds([FeedDocument("global", "rss.xml", body, NOW, gzip=made)])
    await store.save_feeds([FeedDocument("global", "feed.json", b"{}", NOW)])  # none given
    rows = await _feed_rows(store)
    assert rows[("global", "rss.xml")] == ("gzip", made)  # the worker's copy, kept as made
    encoding, kept = rows[("global", "feed.json")]
    assert encoding == "gzip" and gzip.decompress(kept) == b"{}"
    loaded = {d.name: d for d in await store.load_feeds("global")}
    assert loaded["rss.xml"].body == body and loaded["rss.xml"].gzip == made
    assert loaded["feed.json"].body == b"{}"


async def test_feeds_saved_whole_before_are_read_as_they_are(store: Store) -> None:
    body = "<rss>पुराना</rss>".encode()
    await store.save_feeds([FeedDocument("global", "rss.xml", b"placeholder", NOW)])
    # A row as a store before the gzipped form wrote it.
    if isinstance(store, SQLiteStore):
        await store._write_many(
            "UPDATE feeds SET body = ?, encoding = 'identity' WHERE name = ?", [(body, "rss.xml")]
        )
    else:
        assert isinstance(store, PostgresStore)
        await store._fetch(
            "UPDATE feeds SET body = $1, encoding = 'identity' WHERE name = $2 RETURNING 1",
            body,
            "rss.xml",
        )
    [old] = await store.load_feeds("global")
    assert (old.body, old.gzip, old.generated) == (body, None, NOW)
    await store.save_feeds([FeedDocument("global", "rss.xml", b"<rss/>", LATER)])
    assert (await _feed_rows(store))[("global", "rss.xml")] == ("gzip", gzip_fast(b"<rss/>"))
    [new] = await store.load_feeds("global")
    assert (new.body, new.generated) == (b"<rss/>", LATER)


async def test_try_lead_in_a_single_process(store: Store) -> None:
    assert await store.try_lead() is True
    assert await store.try_lead() is True
    await store.resign()
    assert await store.try_lead() is True
    await store.resign()


# -- text and volume ------------------------------------------------------------------------
async def test_multilingual_text_round_trips_byte_exact(store: Store) -> None:
    record = store_record(
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
        store_record(
            f"bulk-{i:04d}", published=at(i % 12, i % 60), sections=["global", f"s{i % 3}"]
        )
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
        [store_record("x"), store_record("x"), store_record("x", headline="दूसरा")], now=NOW
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
    await first.put(store_record(), now=NOW)
    await first.close()
    second = store_factory()
    await second.open()
    assert ids(await second.latest("global", 10, now=NOW)) == ["a1"]


async def test_a_read_sees_every_write_committed_before_it_while_other_reads_run(
    store: Store,
) -> None:
    """Reads running side by side must not hold an old snapshot for the next one: a token
    just stored is found at once (it was "not valid" now and then on SQLite, whose shared
    reader kept the snapshot of a query still being fetched)."""
    for n in range(40):
        await store.put(store_record(f"busy-{n}", headline=f"busy {n}"), now=NOW)
    stop = asyncio.Event()

    async def busy_reads() -> None:
        while not stop.is_set():
            await store.latest(None, 50, now=NOW)
            await store.list_tokens()

    readers = [asyncio.ensure_future(busy_reads()) for _ in range(3)]
    try:
        missed = 0
        for n in range(150):
            _, digest = new_token()
            await store.add_token(name=f"fresh-{n}", role="editor", token_hash=digest, now=NOW)
            if await store.find_token(digest) is None:
                missed += 1
            await asyncio.sleep(0)
        assert missed == 0, f"{missed} of 150 tokens not found right after they were stored"
    finally:
        stop.set()
        await asyncio.gather(*readers)
