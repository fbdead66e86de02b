"""The readers' reach on SQLite: tag, author and archive indexes kept from the change log, and
the queries of tag and author feeds, archive pages and sitemaps (see `reach_index.py`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from syndicate.core.config import ALL_SECTION
from syndicate.core.model import Article, parse_time
from syndicate.store import reach_index as index
from syndicate.store.base_sqlite import Reader, SQLiteMixin
from syndicate.store.changes_sqlite import ARTICLE_COLUMNS, article

# Public now, and (but for `all`) still in the section: an archive entry is a candidate only.
_PUBLIC_MEMBER = (
    "a.status = 'published' AND a.release_ts <= ? AND (e.section = 'all' OR EXISTS ("
    "SELECT 1 FROM article_sections s WHERE s.section = e.section "
    "AND s.article_id = e.article_id))"
)

# The entries of one archive page (`section`, positions `first`…`last`) still public at `now`.
_PAGE = (
    "WHERE e.section = ? AND e.position BETWEEN ? AND ? "
    f"AND {_PUBLIC_MEMBER} ORDER BY e.position DESC"
)


def _chunks(items: Sequence[str], size: int = 500) -> list[Sequence[str]]:
    return [items[n : n + size] for n in range(0, len(items), size)]


class SQLiteReach(SQLiteMixin, index.KeyedFeeds):
    """Mixed into `SQLiteStore`; uses its `reader` and `_transaction`."""

    # -- the indexes ------------------------------------------------------------------
    async def index_changes(self) -> int:
        async with self.reader.execute("SELECT COALESCE(MAX(seq), 0) FROM changes") as cur:
            row = await cur.fetchone()
        top = int(row[0]) if row else 0
        done = await _cursor(self.reader)
        while done < top:
            async with self._transaction() as db:
                done = await _cursor(db)  # another caller may have got here first
                if done >= top:
                    break
                done = await _index(db, done, top)
        return done

    async def reach_changes(self, after_seq: int, limit: int) -> list[index.ReachChange]:
        async with self.reader.execute(
            "SELECT seq, article_id, json_extract(record, '$.tags'), "
            "json_extract(record, '$.authors'), json_extract(record, '$.sections') "
            "FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [
            index.ReachChange(
                r[0],
                r[1],
                index.tag_keys(r[2]),
                index.author_slugs(r[3]),
                tuple(index.json_list(r[4])),
            )
            for r in rows
        ]

    # -- tag and author feeds, the news sitemap --------------------------------------
    async def _keyed(self, kind: str, term: str, limit: int, now: datetime) -> list[Article]:
        async with self.reader.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM article_keys k JOIN articles a ON a.id = k.article_id "
            "JOIN changes c ON c.seq = a.seq WHERE k.kind = ? AND k.term = ? "
            "AND a.status = 'published' AND a.release_ts <= ? "
            "ORDER BY k.published_ts DESC, k.article_id LIMIT ?",
            (kind, term, now.timestamp(), limit),
        ) as cur:
            rows = await cur.fetchall()
        return [article(r) for r in rows]

    async def recent(self, since: datetime, limit: int, *, now: datetime) -> list[Article]:
        async with self.reader.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a JOIN changes c ON c.seq = a.seq "
            "WHERE a.status = 'published' AND a.published_ts >= ? AND a.published_ts <= ? "
            "AND a.release_ts <= ? ORDER BY a.published_ts DESC, a.id LIMIT ?",
            (since.timestamp(), now.timestamp(), now.timestamp(), limit),
        ) as cur:
            rows = await cur.fetchall()
        return [article(r) for r in rows]

    # -- archive pages and section sitemaps -------------------------------------------
    async def archive_count(self, section: str) -> int:
        async with self.reader.execute(
            "SELECT COALESCE(MAX(position), 0) FROM archive_entries WHERE section = ?",
            (section,),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def archive_page(self, section: str, page: int, *, now: datetime) -> list[Article]:
        first, last = index.page_range(page)
        async with self.reader.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM archive_entries e "
            "JOIN articles a ON a.id = e.article_id "
            f"JOIN changes c ON c.seq = e.seq {_PAGE}",
            (section, first, last, now.timestamp()),
        ) as cur:
            rows = await cur.fetchall()
        return [article(r) for r in rows]

    async def sitemap_urls(
        self, section: str, first: int, last: int, *, now: datetime
    ) -> list[tuple[str, datetime]]:
        # The current version's URL and date, read out of the record without decoding it all.
        async with self.reader.execute(
            "SELECT json_extract(c.record, '$.canonical_url'), "
            "COALESCE(json_extract(c.record, '$.updated'), json_extract(c.record, '$.published')) "
            "FROM archive_entries e JOIN articles a ON a.id = e.article_id "
            f"JOIN changes c ON c.seq = a.seq {_PAGE}",
            (section, first, last, now.timestamp()),
        ) as cur:
            rows = await cur.fetchall()
        return [(r[0], parse_time(r[1])) for r in rows]


async def _cursor(db: aiosqlite.Connection | Reader) -> int:
    async with db.execute("SELECT seq FROM reach_state WHERE name = 'changes'") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _index(db: aiosqlite.Connection, after: int, top: int) -> int:
    """Index the next changes after `after` (at most `BATCH`, none past `top`) and move the
    cursor past them, inside the caller's write transaction; the new cursor.

    An article's tag and author rows come from its newest change in the range: a later
    change, if any, is indexed by a later call. One `json_extract` of three paths decodes
    each record once.
    """
    upto = min(top, after + index.BATCH)
    changes: list[index.IndexedChange] = []
    published: dict[str, float] = {}
    newest: dict[str, tuple[Any, Any]] = {}
    async with db.execute(
        "SELECT c.seq, c.article_id, c.held, c.status, a.published_ts, "
        "json_extract(c.record, '$.sections', '$.tags', '$.authors') FROM changes c "
        "JOIN articles a ON a.id = c.article_id WHERE c.seq > ? AND c.seq <= ? ORDER BY c.seq",
        (after, upto),
    ) as cur:
        for seq, article_id, held, status, published_ts, extracted in await cur.fetchall():
            sections, tags, authors = json.loads(extracted)
            public = not held and status == "published"
            changes.append(
                index.IndexedChange(seq, article_id, public, status == "withdrawn", _strs(sections))
            )
            published[article_id] = published_ts
            newest[article_id] = (tags, authors)
    ids = list(newest)
    existing: dict[tuple[str, str], tuple[int, int | None]] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        async with db.execute(
            f"SELECT section, article_id, position, seq FROM archive_entries "
            f"WHERE article_id IN ({marks})",
            chunk,
        ) as cur:
            for section, article_id, position, seq in await cur.fetchall():
                existing[(section, article_id)] = (position, seq)
        await db.execute(f"DELETE FROM article_keys WHERE article_id IN ({marks})", chunk)
    await db.executemany(
        "INSERT INTO article_keys (kind, term, article_id, published_ts) VALUES (?, ?, ?, ?)",
        [
            (*key, published[article_id])
            for article_id, (tags, authors) in newest.items()
            for key in index.key_rows(article_id, tags, authors)
        ],
    )
    counts = {}
    for section in sorted(index.sections_of(changes)):
        async with db.execute(
            "SELECT COALESCE(MAX(position), 0) FROM archive_entries WHERE section = ?", (section,)
        ) as cur:
            row = await cur.fetchone()
        counts[section] = int(row[0]) if row else 0
    plan = index.plan_archive(changes, existing, counts, published)
    await db.executemany(
        "UPDATE archive_entries SET seq = ? WHERE section = ? AND article_id = ?",
        [(seq, s, a) for (s, a), seq in plan.shown.items()],
    )
    await db.executemany(
        "INSERT INTO archive_entries (section, position, article_id, seq) VALUES (?, ?, ?, ?)",
        plan.added,
    )
    await db.execute(
        "INSERT INTO reach_state (name, seq) VALUES ('changes', ?) "
        "ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
        (upto,),
    )
    return upto


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(s for s in index.json_list(value) if isinstance(s, str) and s != ALL_SECTION)
