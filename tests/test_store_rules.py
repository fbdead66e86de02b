"""The write rules of `store/plan.py` as both stores execute them, where the two used to differ.

Each store had its own copy of the rules until they were written once; these pin the cases in
which the copies disagreed, and the seqs SQLite now hands out itself, on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from syndicate.store.base import Store
from syndicate.store.changes_sqlite import time_texts
from tests.helpers.records import record

NOW = datetime(2024, 6, 19, 12, 0, tzinfo=UTC)
EARLIER = (NOW - timedelta(hours=1)).isoformat()
LATER = (NOW + timedelta(hours=1)).isoformat()


async def test_an_unchanged_put_answers_with_the_record_as_sent(store: Store) -> None:
    sent = record("a", summary="Short", sections=["india"])
    await store.put(sent, now=NOW)
    reordered: dict[str, Any] = dict(reversed(list(sent.items())))
    again = await store.put(reordered, now=NOW + timedelta(minutes=1))
    assert again.outcome == "unchanged"
    assert list(again.article.record) == list(reordered)
    assert again.article.version_created == NOW and again.article.first_created == NOW


async def test_a_put_after_a_held_move_was_withdrawn_touches_the_sections_last_put(
    store: Store,
) -> None:
    await store.put(record("a", sections=["global"], published=EARLIER), now=NOW)
    await store.put(
        record("a", sections=["sport"], published=EARLIER, embargo_until=LATER), now=NOW
    )
    killed = await store.withdraw("a", now=NOW)
    # The kill notice carries what the public saw (in global), and reaches sport too.
    assert (killed.sections, killed.version) == (("global",), 3)
    seq = await store.max_seq()
    back = await store.put(record("a", sections=["india"], published=EARLIER), now=NOW)
    assert (back.outcome, back.article.version) == ("updated", 4)
    touched = {
        section: [
            c.article.version
            for c in await store.changes_since(section, seq, 10, include_held=True)
        ]
        for section in ("global", "sport", "india")
    }
    assert touched == {"global": [], "sport": [4], "india": [4]}


async def test_withdrawals_and_releases_take_the_next_seqs_after_puts(store: Store) -> None:
    await store.put_many(
        [record("a"), record("b", published=EARLIER, embargo_until=LATER)], now=NOW
    )
    await store.withdraw("a", now=NOW)
    released = await store.release_due(now=NOW + timedelta(hours=2))
    assert [a.id for a in released] == ["b"]
    await store.put(record("c"), now=NOW)
    histories = await store.histories(["a", "b", "c"], await store.max_seq())
    seqs = {i: [(c.seq, c.kind) for c in changes] for i, changes in histories.items()}
    assert seqs == {
        "a": [(1, "created"), (3, "withdrawn")],
        "b": [(2, "created"), (4, "released")],
        "c": [(5, "created")],
    }


def test_sqlite_time_text_keeps_the_offset_each_time_was_given_in() -> None:
    text = time_texts()
    utc = datetime(2024, 6, 19, 12, 0, tzinfo=UTC)
    ist = utc.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert utc == ist  # the same instant: a memo by value would write one as the other
    assert [text(utc), text(ist), text(utc)] == [
        "2024-06-19T12:00:00+00:00",
        "2024-06-19T17:30:00+05:30",
        "2024-06-19T12:00:00+00:00",
    ]
