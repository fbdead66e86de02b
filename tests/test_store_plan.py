"""The write rules (`syndicate.store.plan`) without a database: puts, withdrawals, releases.

The store contract suite (`test_store_contract.py`) runs the same rules through both stores;
here each rule is pinned on its own, and hypothesis checks that planning is deterministic and
that a plan's own result, planned again, changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.core.errors import PreconditionFailed
from syndicate.core.model import PUBLISHED, WITHDRAWN, Article, content_hash, format_time
from syndicate.store.plan import (
    Entry,
    PutPlan,
    Stored,
    newest_per_section,
    plan_puts,
    plan_releases,
    plan_withdraw,
)
from tests.helpers.records import record

NOW = datetime(2024, 6, 19, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=1)


def stored(rec: dict[str, Any], **fields: Any) -> Stored:
    """The row a store would hold for `rec` put at EARLIER, version 1 unless told."""
    values: dict[str, Any] = {
        "version": 1,
        "status": PUBLISHED,
        "digest": content_hash(rec),
        "first_created": EARLIER,
        "version_created": EARLIER,
        "sections": tuple(rec["sections"]),
    }
    values.update(fields)
    return Stored(**values)


def put(records: list[dict[str, Any]], rows: dict[str, Stored] | None = None, **kw: Any) -> PutPlan:
    return plan_puts(records, rows or {}, now=NOW, next_seq=kw.pop("next_seq", 1), **kw)


def outcomes(plan: PutPlan) -> list[tuple[str, int]]:
    return [(r.outcome, r.article.version) for r in plan.results]


# -- puts -----------------------------------------------------------------------------------


def test_a_new_article_is_created_at_version_one() -> None:
    plan = put([record("a", sections=["india", "global"])], next_seq=41)
    assert outcomes(plan) == [("created", 1)]
    [entry] = plan.entries
    assert (entry.seq, entry.kind, entry.held) == (41, "created", False)
    assert entry.sections == ("global", "india")
    assert (entry.article.first_created, entry.article.version_created) == (NOW, NOW)
    assert plan.rows["a"].entry is entry
    assert plan.rows["a"].digest == content_hash(record("a", sections=["india", "global"]))
    assert plan.replaced == set()


def test_identical_content_is_unchanged_whatever_its_key_order() -> None:
    rec = record("a")
    reordered = dict(reversed(list(rec.items())))
    plan = put([reordered], {"a": stored(rec, version=3)})
    assert outcomes(plan) == [("unchanged", 3)]
    assert plan.entries == [] and plan.rows == {}
    article = plan.results[0].article
    assert (article.first_created, article.version_created) == (EARLIER, EARLIER)


def test_an_update_bumps_the_version_and_keeps_first_created() -> None:
    old = record("a")
    plan = put([record("a", headline="Corrected")], {"a": stored(old, version=2)})
    assert outcomes(plan) == [("updated", 3)]
    [entry] = plan.entries
    assert entry.kind == "updated"
    assert (entry.article.first_created, entry.article.version_created) == (EARLIER, NOW)
    assert plan.replaced == {"a"}


def test_an_update_touches_the_old_sections_and_the_new() -> None:
    old = record("a", sections=["india"])
    plan = put([record("a", sections=["sport"])], {"a": stored(old)})
    assert plan.entries[0].sections == ("india", "sport")
    assert plan.rows["a"].entry.article.sections == ("sport",)


def test_a_withdrawn_article_put_again_is_published_as_a_new_version() -> None:
    rec = record("a")
    plan = put([rec], {"a": stored(rec, version=2, status=WITHDRAWN)})
    assert outcomes(plan) == [("updated", 3)]
    assert plan.entries[0].article.status == PUBLISHED


@pytest.mark.parametrize(
    ("fields", "held"),
    [
        ({"published": format_time(NOW)}, False),
        ({"published": format_time(NOW + timedelta(seconds=1))}, True),
        ({"embargo_until": format_time(NOW + timedelta(minutes=5))}, True),
        ({"embargo_until": format_time(NOW - timedelta(minutes=5))}, False),
    ],
)
def test_an_article_is_held_until_its_release_time(fields: dict[str, Any], held: bool) -> None:
    plan = put([record("a", **{"published": format_time(EARLIER), **fields})])
    assert plan.entries[0].held is held


def test_if_match_names_the_stored_version_or_its_absence() -> None:
    rec = record("a")
    with pytest.raises(PreconditionFailed, match="is at version 2, not 1"):
        put([rec], {"a": stored(rec, version=2)}, expected_version=1)
    with pytest.raises(PreconditionFailed, match="does not exist"):
        put([rec], expected_version=1)
    changed = record("a", headline="Corrected")
    assert outcomes(put([changed], {"a": stored(rec, version=2)}, expected_version=2)) == [
        ("updated", 3)
    ]


def test_a_record_later_in_a_batch_sees_what_an_earlier_one_left() -> None:
    first, second = record("a", sections=["india"]), record("a", sections=["sport"])
    plan = put([first, first, second, record("b")], next_seq=10)
    assert outcomes(plan) == [("created", 1), ("unchanged", 1), ("updated", 2), ("created", 1)]
    assert [e.seq for e in plan.entries] == [10, 11, 12]
    assert plan.entries[1].sections == ("india", "sport")
    assert plan.rows["a"].entry.seq == 11 and plan.rows["b"].entry.seq == 12
    # Placements are replaced only for rows stored before the batch.
    assert plan.replaced == set()


def test_the_record_is_written_in_the_editors_key_order() -> None:
    rec = {"sections": ["india"], **record("a")}
    entry = put([rec]).entries[0]
    assert list(json.loads(entry.record_json)) == list(rec)


def test_newest_per_section_is_the_highest_seq_by_section() -> None:
    plan = put([record("a", sections=["sport"]), record("b", sections=["india", "sport"])])
    assert newest_per_section(plan.entries) == [("india", 2), ("sport", 2)]


# -- withdrawals and releases ----------------------------------------------------------------


def article(rec: dict[str, Any], *, version: int = 1, status: Any = PUBLISHED) -> Article:
    return Article.from_record(
        rec, version=version, status=status, first_created=EARLIER, version_created=EARLIER
    )


def test_withdrawing_twice_writes_nothing() -> None:
    gone = article(record("a"), version=2, status=WITHDRAWN)
    assert plan_withdraw(gone, pending=False, seen=None, now=NOW, seq=5) is None


def test_a_withdrawal_carries_the_current_version_when_nothing_is_held() -> None:
    rec = record("a", sections=["india", "global"])
    entry = plan_withdraw(article(rec, version=2), pending=False, seen=None, now=NOW, seq=5)
    assert entry is not None
    assert (entry.seq, entry.kind, entry.held, entry.sections) == (
        5,
        "withdrawn",
        False,
        ("global", "india"),
    )
    assert (entry.article.version, entry.article.status) == (3, WITHDRAWN)
    assert (entry.article.first_created, entry.article.version_created) == (EARLIER, NOW)
    assert entry.article.headline == rec["headline"]


def test_withdrawing_a_story_the_public_never_saw_stays_held() -> None:
    entry = plan_withdraw(article(record("a")), pending=True, seen=None, now=NOW, seq=5)
    assert entry is not None and entry.held


def test_withdrawing_a_held_correction_carries_what_the_public_saw() -> None:
    seen = record("a", headline="What they saw", sections=["global"])
    held = article(record("a", headline="Held text", sections=["sport"]), version=2)
    entry = plan_withdraw(held, pending=True, seen=seen, now=NOW, seq=5)
    assert entry is not None and not entry.held
    assert entry.article.headline == "What they saw"
    assert entry.article.version == 3
    assert entry.sections == ("global", "sport")


def test_releases_touch_the_sections_the_public_saw_too() -> None:
    moved = article(record("a", sections=["sport"]), version=2)
    fresh = article(record("b", sections=["india"]))
    entries = plan_releases([(moved, record("a", sections=["global"])), (fresh, None)], next_seq=7)
    assert [(e.seq, e.kind, e.held, e.sections) for e in entries] == [
        (7, "released", False, ("global", "sport")),
        (8, "released", False, ("india",)),
    ]
    assert entries[0].article is moved


# -- properties ------------------------------------------------------------------------------

Batch = list[dict[str, Any]]
Rows = dict[str, Stored]
IDS = ("a", "b", "c")
SECTIONS = st.lists(st.sampled_from(("global", "india", "sport")), min_size=1, max_size=3)
OFFSETS = st.integers(min_value=-120, max_value=120).map(lambda m: NOW + timedelta(minutes=m))


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    rec = record(
        draw(st.sampled_from(IDS)),
        headline=draw(st.sampled_from(("One", "Two", "तीन"))),
        sections=draw(SECTIONS),
        published=format_time(draw(OFFSETS)),
    )
    if draw(st.booleans()):
        rec["embargo_until"] = format_time(draw(OFFSETS))
    return rec


@st.composite
def stored_rows(draw: st.DrawFn) -> Rows:
    rows = {}
    for article_id in draw(st.lists(st.sampled_from(IDS), unique=True)):
        rec = draw(records())
        rec["id"] = article_id
        status = draw(st.sampled_from((PUBLISHED, WITHDRAWN)))
        rows[article_id] = stored(rec, version=draw(st.integers(1, 5)), status=status)
    return rows


def over_stored_rows(test: Callable[[Batch, Rows], None]) -> Callable[..., None]:
    """Run `test(batch, rows)` on batches of up to 8 records over random stored rows."""
    batches = st.lists(records(), min_size=1, max_size=8)
    return settings(max_examples=200, deadline=None)(given(batch=batches, rows=stored_rows())(test))


def written(plan: PutPlan) -> list[tuple[Any, ...]]:
    """Everything a plan would write, as plain values."""
    return [
        *((r.outcome, r.article, dict(r.article.record)) for r in plan.results),
        *((e.seq, e.kind, e.held, e.sections, e.article, e.record_json) for e in plan.entries),
        *sorted((i, r.entry.seq, r.digest) for i, r in plan.rows.items()),
        sorted(plan.replaced),
    ]


@over_stored_rows
def test_planning_is_deterministic(batch: Batch, rows: Rows) -> None:
    # Neither the clock nor the order the store happened to return its rows in may matter.
    reordered = dict(reversed(list(rows.items())))
    assert written(put(batch, rows, next_seq=3)) == written(put(batch, reordered, next_seq=3))


@over_stored_rows
def test_a_plan_replanned_over_its_own_rows_is_unchanged(batch: Batch, rows: Rows) -> None:
    plan = put(batch, rows, next_seq=3)
    after = rows | {i: row.stored() for i, row in plan.rows.items()}
    last = list({r["id"]: r for r in batch}.values())
    again = put(last, after, next_seq=plan.entries[-1].seq + 1 if plan.entries else 3)
    assert {r.outcome for r in again.results} == {"unchanged"}
    assert again.entries == []
    for rec, result in zip(last, again.results, strict=True):
        assert result.article.version == after[rec["id"]].version


@over_stored_rows
def test_versions_rise_by_one_per_entry_and_seqs_by_one_per_change(
    batch: Batch, rows: Rows
) -> None:
    plan = put(batch, rows, next_seq=100)
    assert [e.seq for e in plan.entries] == list(range(100, 100 + len(plan.entries)))
    version = {i: row.version for i, row in rows.items()}
    for entry in plan.entries:
        article = entry.article
        assert article.version == version.get(article.id, 0) + 1
        assert entry.held == (article.release_at > NOW)
        assert set(article.sections) <= set(entry.sections)
        version[article.id] = article.version
        if article.id in rows:
            assert article.first_created == rows[article.id].first_created


def test_entries_are_what_the_change_log_reads_back() -> None:
    entry: Entry = put([record("a")]).entries[0]
    back = Article.from_record(
        json.loads(entry.record_json),
        version=entry.article.version,
        first_created=entry.article.first_created,
        version_created=entry.article.version_created,
    )
    assert back == entry.article and dict(back.record) == dict(entry.article.record)
