"""The readers' reach on PostgreSQL: the same indexes and queries as `reach_sqlite.py`.

Several processes may index at once: one transaction-level advisory lock per schema makes them
take turns, and each re-reads the cursor under it, so every change is indexed once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from syndicate.core.config import ALL_SECTION
from syndicate.core.model import Article, parse_time
from syndicate.store import reach_index as index
from syndicate.store.base_postgres import PostgresMixin
from syndicate.store.changes_postgres import ARTICLE_COLUMNS, article

_PUBLIC_MEMBER = (
    "a.status = 'published' AND a.release_at <= $4 AND (e.section = 'all' OR EXISTS ("
    "SELECT 1 FROM article_sections s WHERE s.section = e.section "
    "AND s.article_id = e.article_id))"
)

# The entries of one archive page (`section`, positions `first`…`last`) still public at `now`.
_PAGE = (
    "WHERE e.section = $1 AND e.position BETWEEN $2 AND $3 "
    f"AND {_PUBLIC_MEMBER} ORDER BY e.position DESC"
)


class PostgresReach(PostgresMixin, index.KeyedFeeds):
    """Mixed into `PostgresStore`; uses its `_fetch`, `_transaction` and `schema`."""

    schema: str | None

    # -- the indexes ------------------------------------------------------------------
    async def index_changes(self) -> int:
        rows = await self._fetch(
            "SELECT COALESCE(MAX(seq), 0) AS top, "
            "(SELECT seq FROM reach_state WHERE name = 'changes') AS done FROM changes"
        )
        top, done = int(rows[0]["top"]), int(rows[0]["done"] or 0)
        lock = _lock_key(self.schema or "public")
        while done < top:
            async with self._transaction() as conn:
                await conn.execute("SELECT pg_advisory_xact_lock($1)", lock)
                found = await conn.fetchval("SELECT seq FROM reach_state WHERE name = 'changes'")
                done = int(found or 0)  # another process may have got here first
                if done >= top:
                    break
                done = await _index(conn, done, top)
        return done

    async def reach_changes(self, after_seq: int, limit: int) -> list[index.ReachChange]:
        rows = await self._fetch(
            "SELECT seq, article_id, record::jsonb -> 'tags' AS tags, "
            "record::jsonb -> 'authors' AS authors, record::jsonb -> 'sections' AS sections "
            "FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
            after_seq,
            limit,
        )
        return [
            index.ReachChange(
                int(r["seq"]),
                r["article_id"],
                index.tag_keys(r["tags"]),
                index.author_slugs(r["authors"]),
                tuple(index.json_list(r["sections"])),
            )
            for r in rows
        ]

    # -- tag and author feeds, the news sitemap --------------------------------------
    async def _keyed(self, kind: str, term: str, limit: int, now: datetime) -> list[Article]:
        if "\x00" in term:  # PostgreSQL text cannot hold NUL: no such tag, as on SQLite
            return []
        rows = await self._fetch(
            f"SELECT {ARTICLE_COLUMNS} FROM article_keys k JOIN articles a ON a.id = k.article_id "
            "JOIN changes c ON c.seq = a.seq WHERE k.kind = $1 AND k.term = $2 "
            "AND a.status = 'published' AND a.release_at <= $3 "
            "ORDER BY k.published DESC, k.article_id LIMIT $4",
            kind,
            term,
            now,
            limit,
        )
        return [article(r) for r in rows]

    async def recent(self, since: datetime, limit: int, *, now: datetime) -> list[Article]:
        rows = await self._fetch(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a JOIN changes c ON c.seq = a.seq "
            "WHERE a.status = 'published' AND a.published >= $1 AND a.published <= $2 "
            "AND a.release_at <= $2 ORDER BY a.published DESC, a.id LIMIT $3",
            since,
            now,
            limit,
        )
        return [article(r) for r in rows]

    # -- archive pages and section sitemaps -------------------------------------------
    async def archive_count(self, section: str) -> int:
        rows = await self._fetch(
            "SELECT COALESCE(MAX(position), 0) AS n FROM archive_entries WHERE section = $1",
            section,
        )
        return int(rows[0]["n"])

    async def archive_page(self, section: str, page: int, *, now: datetime) -> list[Article]:
        first, last = index.page_range(page)
        rows = await self._fetch(
            f"SELECT {ARTICLE_COLUMNS} FROM archive_entries e "
            "JOIN articles a ON a.id = e.article_id "
            f"JOIN changes c ON c.seq = e.seq {_PAGE}",
            section,
            first,
            last,
            now,
        )
        return [article(r) for r in rows]

    async def sitemap_urls(
        self, section: str, first: int, last: int, *, now: datetime
    ) -> list[tuple[str, datetime]]:
        rows = await self._fetch(
            "SELECT c.record::json ->> 'canonical_url' AS url, COALESCE("
            "c.record::json ->> 'updated', c.record::json ->> 'published') AS modified "
            "FROM archive_entries e JOIN articles a ON a.id = e.article_id "
            f"JOIN changes c ON c.seq = a.seq {_PAGE}",
            section,
            first,
            last,
            now,
        )
        return [(r["url"], parse_time(r["modified"])) for r in rows]


def _lock_key(schema: str) -> int:
    """The indexing lock of one schema (advisory locks are per database, not per schema)."""
    digest = hashlib.blake2b(f"syndicate:reach:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def _index(conn: Any, after: int, top: int) -> int:
    """Index the next changes after `after` (at most `BATCH`, none past `top`) and move the
    cursor past them, inside the caller's transaction; the new cursor."""
    upto = min(top, after + index.BATCH)
    changes = [
        index.IndexedChange(
            int(r["seq"]),
            r["article_id"],
            not r["held"] and r["status"] == "published",
            r["status"] == "withdrawn",
            tuple(s for s in index.json_list(r["sections"]) if s != ALL_SECTION),
        )
        for r in await conn.fetch(
            "SELECT seq, article_id, held, status, record::jsonb -> 'sections' AS sections "
            "FROM changes WHERE seq > $1 AND seq <= $2 ORDER BY seq",
            after,
            upto,
        )
    ]
    ids = list(dict.fromkeys(c.article_id for c in changes))
    published: dict[str, datetime] = {}
    keys: list[tuple[str, str, str, datetime]] = []
    for r in await conn.fetch(
        "SELECT a.id, a.published, c.record::jsonb -> 'tags' AS tags, "
        "c.record::jsonb -> 'authors' AS authors FROM articles a "
        "JOIN changes c ON c.seq = a.seq WHERE a.id = ANY($1::text[])",
        ids,
    ):
        published[r["id"]] = r["published"]
        keys += [(*k, r["published"]) for k in index.key_rows(r["id"], r["tags"], r["authors"])]
    existing = {
        (r["section"], r["article_id"]): (int(r["position"]), r["seq"])
        for r in await conn.fetch(
            "SELECT section, article_id, position, seq FROM archive_entries "
            "WHERE article_id = ANY($1::text[])",
            ids,
        )
    }
    await conn.execute("DELETE FROM article_keys WHERE article_id = ANY($1::text[])", ids)
    if keys:
        await conn.execute(
            "INSERT INTO article_keys (kind, term, article_id, published) SELECT * FROM "
            "unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])",
            *_columns(keys, 4),
        )
    counts = {
        r["section"]: int(r["n"])
        for r in await conn.fetch(
            "SELECT s AS section, (SELECT COALESCE(MAX(position), 0) FROM archive_entries "
            "WHERE section = s) AS n FROM unnest($1::text[]) AS s",
            sorted(index.sections_of(changes)),
        )
    }
    plan = index.plan_archive(changes, existing, counts, published)
    if plan.shown:
        await conn.execute(
            "UPDATE archive_entries e SET seq = u.seq FROM unnest($1::text[], $2::text[], "
            "$3::bigint[]) AS u (section, article_id, seq) "
            "WHERE e.section = u.section AND e.article_id = u.article_id",
            *_columns([(s, a, seq) for (s, a), seq in plan.shown.items()], 3),
        )
    if plan.added:
        await conn.execute(
            "INSERT INTO archive_entries (section, position, article_id, seq) SELECT * FROM "
            "unnest($1::text[], $2::int[], $3::text[], $4::bigint[])",
            *_columns(plan.added, 4),
        )
    await conn.execute(
        "INSERT INTO reach_state (name, seq) VALUES ('changes', $1) "
        "ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
        upto,
    )
    return upto


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as `width` column lists, for `unnest` (one statement, whatever the count)."""
    return [[row[n] for row in rows] for n in range(width)]
