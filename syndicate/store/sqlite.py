"""SQLite store: WAL, one writer connection (`BEGIN IMMEDIATE`), one reader; both off the loop.

Articles keep a pointer to their newest change; the change log holds every version's record,
so partners can replay changes in order and feeds read one indexed range per section. What a
write means is decided in `plan.py`: here it reads the rows a write needs and executes the plan.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from syndicate.core.errors import NotFound, StoreError
from syndicate.core.model import (
    PUBLISHED,
    WITHDRAWN,
    Article,
    PutResult,
    StoredArticle,
    parse_time,
)
from syndicate.store import plan as rules
from syndicate.store.base import BatchPuts, DecodedReads
from syndicate.store.base_sqlite import Reader
from syndicate.store.changes_sqlite import (
    ARTICLE_COLUMNS,
    SQLiteChangeLog,
    append,
    article,
    next_seq,
    stored,
    time_texts,
)
from syndicate.store.desk_sqlite import SQLiteDesk
from syndicate.store.feeds_sqlite import SQLiteFeeds
from syndicate.store.headlines_sqlite import SQLiteHeadlines
from syndicate.store.migrations import SQLITE as MIGRATIONS
from syndicate.store.push_sqlite import SQLitePush
from syndicate.store.reach_sqlite import SQLiteReach
from syndicate.store.tokens_sqlite import SQLiteTokens

# Pages read through a memory map rather than a read() each: a full pass reads ~200 MB of
# records and compares ~500 MB of stored feeds, 4 KB pages at a time (the kernel's time for
# those reads was as much as the rest of the serving process's work). Address space, not
# memory: the OS keeps what it can of the file in its page cache either way.
MMAP_BYTES = 1 << 30

# The newest record of article `a` the public saw (its newest change not held), for the
# withdrawal and release rules; NULL if the public never saw it. Read only while `a` is held
# back: the rules use it for nothing else, and most withdrawals are of public stories.
_SEEN = (
    "CASE WHEN a.release_pending = 1 THEN (SELECT s.record FROM changes s "
    "WHERE s.article_id = a.id AND s.held = 0 ORDER BY s.seq DESC LIMIT 1) END"
)


def _path_from_url(url: str) -> str:
    if url in ("sqlite://", "sqlite:///:memory:"):
        return ":memory:"
    if not url.startswith("sqlite:///"):
        raise StoreError(f"store: expected sqlite:///path, got {url!r}")
    return url[len("sqlite:///") :]


def _ts(value: datetime) -> float:
    return value.timestamp()


class SQLiteStore(
    SQLiteChangeLog,
    SQLiteFeeds,
    SQLiteTokens,
    SQLitePush,
    SQLiteDesk,
    SQLiteHeadlines,
    SQLiteReach,
    BatchPuts,
    DecodedReads,
):
    """The embedded default store (`sqlite:///var/syndicate.db`)."""

    def __init__(self, database_url: str) -> None:
        self.path = _path_from_url(database_url)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        # One connection writes; its transactions must not interleave between coroutines
        # (a second BEGIN fails, and its ROLLBACK would undo the first one's work).
        self._write_lock = asyncio.Lock()

    # -- lifecycle ------------------------------------------------------------
    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = await aiosqlite.connect(self.path, isolation_level=None)
            await self._writer.execute("PRAGMA journal_mode=WAL")
            await self._writer.execute("PRAGMA synchronous=NORMAL")
            await self._writer.execute("PRAGMA busy_timeout=10000")
            await self._writer.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            await self._migrate(self._writer)
            if self.path == ":memory:":
                self._reader = self._writer
            else:
                self._reader = await aiosqlite.connect(self.path, isolation_level=None)
                await self._reader.execute("PRAGMA busy_timeout=10000")
                await self._reader.execute("PRAGMA query_only=1")
                await self._reader.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        except aiosqlite.Error as exc:
            raise StoreError(f"store: cannot open SQLite database {self.path}: {exc}") from exc

    async def close(self) -> None:
        if self._reader is not None and self._reader is not self._writer:
            await self._reader.close()
        if self._writer is not None:
            await self._writer.close()
        self._reader = self._writer = None

    async def _migrate(self, db: aiosqlite.Connection) -> None:
        await db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)"
        )
        await db.execute("BEGIN IMMEDIATE")
        try:
            async with db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") as cur:
                row = await cur.fetchone()
            done = int(row[0]) if row else 0
            for number, script in enumerate(MIGRATIONS, start=1):
                if number <= done:
                    continue
                for statement in script.split(";"):
                    if statement.strip():
                        await db.execute(statement)
                await db.execute("INSERT INTO schema_migrations (version) VALUES (?)", (number,))
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise StoreError("store: not open")
        return self._writer

    @property
    def reader(self) -> Reader:
        if self._reader is None:
            raise StoreError("store: not open")
        return Reader(self._reader)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """`BEGIN IMMEDIATE` ... `COMMIT` on the writer, one coroutine at a time."""
        async with self._write_lock:
            db = self.writer
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    # -- writes: each reads the rows it needs, asks `plan.py`, and executes the answer --------
    async def _put_all(
        self, records: Sequence[dict[str, Any]], now: datetime, expected_version: int | None
    ) -> list[PutResult]:
        """Store a batch in one transaction with a handful of statements, not a few per record.

        Every statement is a hop to the connection's thread, so the whole batch is planned at
        once (outcomes, versions, seqs) and written with `executemany`.
        """
        async with self._transaction() as db:
            stored = await _stored(db, list(dict.fromkeys(r["id"] for r in records)))
            plan = rules.plan_puts(
                records,
                stored,
                now=now,
                next_seq=await next_seq(db),
                expected_version=expected_version,
            )
            await append(db, plan.entries)
            await _write_rows(db, plan)
        return plan.results

    async def withdraw(self, article_id: str, *, now: datetime) -> Article:
        async with self._transaction() as db:
            async with db.execute(
                f"SELECT {ARTICLE_COLUMNS}, a.release_pending, {_SEEN} FROM articles a "
                "JOIN changes c ON c.seq = a.seq WHERE a.id = ?",
                (article_id,),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                raise NotFound(f"no article with id {article_id!r}")
            current = article(row)
            seen = rules.record_or_none(row[6])
            seq = await next_seq(db)
            entry = rules.plan_withdraw(current, pending=bool(row[5]), seen=seen, now=now, seq=seq)
            if entry is None:
                return current
            await append(db, [entry])
            await db.execute(
                "UPDATE articles SET seq = ?, version = ?, status = ?, release_pending = 0 "
                "WHERE id = ?",
                (entry.seq, entry.article.version, WITHDRAWN, article_id),
            )
            await db.execute(
                "UPDATE article_sections SET status = ? WHERE article_id = ?",
                (WITHDRAWN, article_id),
            )
        return entry.article

    async def release_due(self, *, now: datetime) -> list[Article]:
        async with self._transaction() as db:
            async with db.execute(
                f"SELECT {ARTICLE_COLUMNS}, {_SEEN} FROM articles a "
                "JOIN changes c ON c.seq = a.seq WHERE a.release_pending = 1 AND a.release_ts <= ? "
                "ORDER BY a.release_ts, a.id",
                (_ts(now),),
            ) as cur:
                rows = await cur.fetchall()
            if not rows:
                return []
            due = [(article(r), rules.record_or_none(r[5])) for r in rows]
            entries = rules.plan_releases(due, next_seq=await next_seq(db))
            await append(db, entries)
            await db.executemany(
                "UPDATE articles SET release_pending = 0, seq = ? WHERE id = ?",
                [(e.seq, e.article.id) for e in entries],
            )
        return [e.article for e in entries]

    # -- reads ----------------------------------------------------------------
    async def get(self, article_id: str) -> Article | None:
        async with self.reader.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a JOIN changes c ON c.seq = a.seq "
            "WHERE a.id = ?",
            (article_id,),
        ) as cur:
            row = await cur.fetchone()
        return article(row) if row else None

    async def latest_stored(
        self, section: str | None, limit: int, *, now: datetime
    ) -> list[StoredArticle]:
        if section is None:
            sql = (
                f"SELECT {ARTICLE_COLUMNS} FROM articles a JOIN changes c ON c.seq = a.seq "
                "WHERE a.status = 'published' AND a.release_ts <= ? "
                "ORDER BY a.published_ts DESC, a.id LIMIT ?"
            )
            params: tuple[Any, ...] = (_ts(now), limit)
        else:
            sql = (
                f"SELECT {ARTICLE_COLUMNS} FROM article_sections s "
                "JOIN articles a ON a.id = s.article_id JOIN changes c ON c.seq = a.seq "
                "WHERE s.section = ? AND s.status = 'published' AND s.release_ts <= ? "
                "ORDER BY s.published_ts DESC, s.article_id LIMIT ?"
            )
            params = (section, _ts(now), limit)
        async with self.reader.execute(sql, params) as cur:
            rows = await cur.fetchall()
        return [stored(r) for r in rows]

    async def count(self, section: str | None, *, now: datetime) -> int:
        if section is None:
            sql = "SELECT COUNT(*) FROM articles WHERE status = 'published' AND release_ts <= ?"
            params: tuple[Any, ...] = (_ts(now),)
        else:
            sql = (
                "SELECT COUNT(*) FROM article_sections "
                "WHERE section = ? AND status = 'published' AND release_ts <= ?"
            )
            params = (section, _ts(now))
        async with self.reader.execute(sql, params) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def totals(self) -> dict[str, int]:
        counts = {"published": 0, "held": 0, "withdrawn": 0}
        async with self.reader.execute(
            "SELECT status, release_pending, COUNT(*) FROM articles GROUP BY 1, 2"
        ) as cur:
            for status, pending, n in await cur.fetchall():
                key = "withdrawn" if status == WITHDRAWN else "held" if pending else "published"
                counts[key] += int(n)
        return counts

    async def pending_releases(self) -> list[tuple[str, datetime, tuple[str, ...]]]:
        async with self.reader.execute(
            "SELECT id, release_ts, sections FROM articles WHERE release_pending = 1 "
            "ORDER BY release_ts, id"
        ) as cur:
            rows = await cur.fetchall()
        return [(r[0], _release_time(r[1]), tuple(json.loads(r[2]))) for r in rows]


async def _stored(db: aiosqlite.Connection, ids: Sequence[str]) -> dict[str, rules.Stored]:
    """The rows a batch of puts replaces, by id (in chunks under SQLite's parameter limit)."""
    stored: dict[str, rules.Stored] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        async with db.execute(
            "SELECT a.id, a.version, a.status, a.content_hash, a.first_created, "
            "c.version_created, a.sections FROM articles a JOIN changes c ON c.seq = a.seq "
            f"WHERE a.id IN ({','.join('?' * len(chunk))})",
            chunk,
        ) as cur:
            for r in await cur.fetchall():
                when = parse_time(r[4]), parse_time(r[5])
                stored[r[0]] = rules.Stored(r[1], r[2], r[3], *when, tuple(json.loads(r[6])))
    return stored


async def _write_rows(db: aiosqlite.Connection, plan: rules.PutPlan) -> None:
    """The articles rows a put plan leaves, and their section placements."""
    if not plan.rows:
        return
    rows: list[tuple[Any, ...]] = []
    placements: list[tuple[Any, ...]] = []
    text = time_texts()
    for article_id, row in plan.rows.items():
        a = row.entry.article
        assert a.first_created is not None
        published_ts, release_ts = _ts(a.published), _ts(a.release_at)
        rows.append(
            (
                article_id,
                row.entry.seq,
                a.version,
                a.status,
                row.digest,
                published_ts,
                release_ts,
                1 if row.entry.held else 0,
                text(a.first_created),
                json.dumps(list(a.sections)),
            )
        )
        placements += [(s, article_id, published_ts, release_ts, PUBLISHED) for s in a.sections]
    await db.executemany(
        "INSERT INTO articles (id, seq, version, status, content_hash, published_ts, "
        "release_ts, release_pending, first_created, sections) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version, "
        "status = excluded.status, content_hash = excluded.content_hash, "
        "published_ts = excluded.published_ts, release_ts = excluded.release_ts, "
        "release_pending = excluded.release_pending, sections = excluded.sections",
        rows,
    )
    moved = [(i,) for i in plan.rows if i in plan.replaced]
    if moved:
        await db.executemany("DELETE FROM article_sections WHERE article_id = ?", moved)
    await db.executemany(
        "INSERT INTO article_sections (section, article_id, published_ts, release_ts, status) "
        "VALUES (?, ?, ?, ?, ?)",
        placements,
    )


def _release_time(ts: float) -> datetime:
    """A stored release instant; one past what datetime holds reads as its latest value, so
    one record can never stop the releases of all the others (the scheduler names it)."""
    try:
        return datetime.fromtimestamp(ts, UTC)
    except (OverflowError, ValueError, OSError):
        return datetime.max.replace(tzinfo=UTC)
