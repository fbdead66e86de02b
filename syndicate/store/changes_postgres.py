"""The change log on PostgreSQL: seqs handed out in commit order, planned entries appended, reads.

What an entry holds is decided in `plan.py`; this module only writes entries and reads them back
(partners' pulls, the delivery rule's histories, regeneration's dirty marks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from syndicate.core.model import Article, Change, StoredArticle
from syndicate.store.base_postgres import PostgresMixin
from syndicate.store.plan import Entry, newest_per_section

# The columns `article` reads: an article as it was at one change (`c` is a changes row).
ARTICLE_COLUMNS = "c.record, c.version, c.status, c.first_created, c.version_created"


def stored(row: Any) -> StoredArticle:
    """A row of `ARTICLE_COLUMNS`, not yet decoded."""
    return StoredArticle(
        row["record"], row["version"], row["status"], row["first_created"], row["version_created"]
    )


def article(row: Any) -> Article:
    return stored(row).article()


def change(row: Any) -> Change:
    """A change from a row of `ARTICLE_COLUMNS` plus `c.seq, c.kind, c.held`."""
    return Change(seq=int(row["seq"]), kind=row["kind"], article=article(row), held=row["held"])


class PostgresChangeLog(PostgresMixin):
    """Mixed into `PostgresStore`; uses its `_transaction`, `_fetch` and `_change_lock`."""

    _change_lock: int  # the advisory-lock key of this schema's change log

    @asynccontextmanager
    async def _appending(self) -> AsyncIterator[tuple[Any, int]]:
        """A transaction that appends to the change log, and the first seq it may use.

        Partners pull "seq > cursor", so a seq must never become visible after a higher one:
        with a plain sequence, writer A can take seq 10, writer B seq 11, B commits, a partner
        reads up to 11, then A commits 10 and that partner never sees it. So every transaction
        that appends takes one transaction-level advisory lock first and allocates seqs
        (max + 1) under it. PostgreSQL makes a commit visible before it releases the
        transaction's locks, so the next holder's seqs are higher and become visible later.
        The price is that writers of the change log run one at a time (including across
        processes) - fine for a newsroom's write rate, and `put_many` batches amortise it.
        Readers never take the lock. Callers `_append` entries before touching rows that
        refer to the new seqs.
        """
        async with self._transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", self._change_lock)
            next_seq = int(await conn.fetchval("SELECT COALESCE(MAX(seq), 0) FROM changes")) + 1
            yield conn, next_seq

    @staticmethod
    async def _append(conn: Any, entries: Sequence[Entry]) -> None:
        """Write planned entries with one statement per table, whatever their number."""
        if not entries:
            return
        columns = [
            [e.seq for e in entries],
            [e.article.id for e in entries],
            [e.article.version for e in entries],
            [e.article.status for e in entries],
            [e.kind for e in entries],
            [e.held for e in entries],
            [e.record_json for e in entries],
            [e.article.first_created for e in entries],
            [e.article.version_created for e in entries],
        ]
        await conn.execute(
            "INSERT INTO changes (seq, article_id, version, status, kind, held, record, "
            "first_created, version_created) SELECT * FROM unnest($1::bigint[], $2::text[], "
            "$3::int[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::timestamptz[], "
            "$9::timestamptz[])",
            *columns,
        )
        await conn.execute(
            "INSERT INTO change_sections (section, seq) "
            "SELECT * FROM unnest($1::text[], $2::bigint[])",
            [s for e in entries for s in e.sections],
            [e.seq for e in entries for _ in e.sections],
        )
        newest = newest_per_section(entries)
        await conn.execute(
            "INSERT INTO section_changes (section, seq) "
            "SELECT * FROM unnest($1::text[], $2::bigint[]) "
            "ON CONFLICT (section) DO UPDATE SET seq = excluded.seq",
            [section for section, _ in newest],
            [seq for _, seq in newest],
        )

    async def changes_since(
        self, section: str, after_seq: int, limit: int, *, include_held: bool
    ) -> list[Change]:
        rows = await self._fetch(
            f"SELECT {ARTICLE_COLUMNS}, c.seq, c.kind, c.held FROM change_sections cs "
            "JOIN changes c ON c.seq = cs.seq "
            "WHERE cs.section = $1 AND cs.seq > $2 AND (NOT c.held OR $3) "
            "ORDER BY cs.seq LIMIT $4",
            section,
            after_seq,
            include_held,
            limit,
        )
        return [change(r) for r in rows]

    async def histories(
        self, article_ids: Sequence[str], up_to_seq: int
    ) -> dict[str, list[Change]]:
        found: dict[str, list[Change]] = {i: [] for i in article_ids}
        rows = await self._fetch(
            f"SELECT {ARTICLE_COLUMNS}, c.seq, c.kind, c.held, c.article_id FROM changes c "
            "WHERE c.article_id = ANY($1::text[]) AND c.seq <= $2 ORDER BY c.seq",
            list(found),
            up_to_seq,
        )
        for r in rows:
            found[r["article_id"]].append(change(r))
        return found

    async def max_seq(self) -> int:
        rows = await self._fetch("SELECT COALESCE(MAX(seq), 0) FROM changes")
        return int(rows[0][0])

    async def section_seqs(self) -> dict[str, int]:
        rows = await self._fetch("SELECT section, seq FROM section_changes")
        return {r["section"]: int(r["seq"]) for r in rows}
