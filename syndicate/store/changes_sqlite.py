"""The change log on SQLite: planned entries appended, and read back in seq order.

What an entry holds is decided in `plan.py`; this module only writes entries and reads them back
(partners' pulls, the delivery rule's histories, regeneration's dirty marks). Seqs need no lock
here: one writer connection appends, one transaction at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from syndicate.core.model import Article, Change, StoredArticle, format_time, parse_time
from syndicate.store.base_sqlite import SQLiteMixin
from syndicate.store.plan import Entry, newest_per_section

# The columns `article` reads: an article as it was at one change (`c` is a changes row).
# The record as its UTF-8 bytes (a BLOB, the same bytes): read as text, each one was decoded
# here, on the reader thread, only for orjson to read it again in a render worker (a section's
# fifty: 0.21 ms against 0.04 as bytes, and its pickle to the worker cost more too).
ARTICLE_COLUMNS = "CAST(c.record AS BLOB), c.version, c.status, c.first_created, c.version_created"


def stored(row: Sequence[Any]) -> StoredArticle:
    """A row of `ARTICLE_COLUMNS`, not yet decoded."""
    record, version, status, first_created, version_created = row[:5]
    return StoredArticle(
        record, version, status, parse_time(first_created), parse_time(version_created)
    )


def article(row: Sequence[Any]) -> Article:
    return stored(row).article()


def change(row: Sequence[Any]) -> Change:
    """A change from a row of `ARTICLE_COLUMNS` followed by `c.seq, c.kind, c.held`."""
    return Change(seq=row[5], kind=row[6], article=article(row), held=bool(row[7]))


async def next_seq(db: aiosqlite.Connection) -> int:
    """The first seq a transaction that appends may use (the writer's, so nobody races it)."""
    async with db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes") as cur:
        top = await cur.fetchone()
    return (int(top[0]) if top else 0) + 1


def time_texts() -> Callable[[datetime], str]:
    """`format_time` that formats each datetime object once: SQLite keeps times as text, and
    the rows of one batch share its `now` (a memo by identity, so equal instants written
    with different offsets keep their own text)."""
    memo: dict[int, tuple[datetime, str]] = {}

    def text(when: datetime) -> str:
        hit = memo.get(id(when))
        if hit is None or hit[0] is not when:
            hit = memo[id(when)] = (when, format_time(when))
        return hit[1]

    return text


async def append(db: aiosqlite.Connection, entries: Sequence[Entry]) -> None:
    """Write planned entries with one `executemany` per table, whatever their number."""
    if not entries:
        return
    text = time_texts()
    await db.executemany(
        "INSERT INTO changes (seq, article_id, version, status, kind, held, record, "
        "first_created, version_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [_change_row(e, text) for e in entries],
    )
    await db.executemany(
        "INSERT INTO change_sections (section, seq) VALUES (?, ?)",
        [(s, e.seq) for e in entries for s in e.sections],
    )
    await db.executemany(
        "INSERT INTO section_changes (section, seq) VALUES (?, ?) "
        "ON CONFLICT (section) DO UPDATE SET seq = excluded.seq",
        newest_per_section(entries),
    )


def _change_row(entry: Entry, text: Callable[[datetime], str]) -> tuple[Any, ...]:
    a = entry.article
    assert a.first_created is not None and a.version_created is not None
    return (
        entry.seq,
        a.id,
        a.version,
        a.status,
        entry.kind,
        1 if entry.held else 0,
        entry.record_json,
        text(a.first_created),
        text(a.version_created),
    )


class SQLiteChangeLog(SQLiteMixin):
    """Mixed into `SQLiteStore`; reads through its `reader`."""

    async def changes_since(
        self, section: str, after_seq: int, limit: int, *, include_held: bool
    ) -> list[Change]:
        async with self.reader.execute(
            f"SELECT {ARTICLE_COLUMNS}, c.seq, c.kind, c.held FROM change_sections cs "
            "JOIN changes c ON c.seq = cs.seq "
            "WHERE cs.section = ? AND cs.seq > ? AND (c.held = 0 OR ?) "
            "ORDER BY cs.seq LIMIT ?",
            (section, after_seq, 1 if include_held else 0, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [change(r) for r in rows]

    async def histories(
        self, article_ids: Sequence[str], up_to_seq: int
    ) -> dict[str, list[Change]]:
        found: dict[str, list[Change]] = {i: [] for i in article_ids}
        ids = list(found)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            async with self.reader.execute(
                f"SELECT {ARTICLE_COLUMNS}, c.seq, c.kind, c.held, c.article_id FROM changes c "
                f"WHERE c.article_id IN ({marks}) AND c.seq <= ? ORDER BY c.seq",
                (*chunk, up_to_seq),
            ) as cur:
                for r in await cur.fetchall():
                    found[r[8]].append(change(r))
        return found

    async def max_seq(self) -> int:
        async with self.reader.execute("SELECT COALESCE(MAX(seq), 0) FROM changes") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def section_seqs(self) -> dict[str, int]:
        async with self.reader.execute("SELECT section, seq FROM section_changes") as cur:
            rows = await cur.fetchall()
        return {r[0]: int(r[1]) for r in rows}
