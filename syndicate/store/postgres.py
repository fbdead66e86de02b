"""PostgreSQL store (asyncpg pool) for scale-out: several processes share one database.

Same tables and semantics as `sqlite.py`; what a write means is decided in `plan.py`, and
this module reads the rows a write needs and executes the plan. The rest is split by concern:
`pg_connection.py` (URL, schema, errors, migrating), `changes_postgres.py` (the change log and
its commit-ordered seqs), `feeds_postgres.py` (saved feeds, NOTIFY) and `pg_sessions.py` (the
timer's leadership and the feed listener).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from syndicate.core.errors import NotFound, StoreError
from syndicate.core.model import WITHDRAWN, Article, PutResult, StoredArticle
from syndicate.store import plan as rules
from syndicate.store.base import BatchPuts, DecodedReads
from syndicate.store.changes_postgres import (
    ARTICLE_COLUMNS,
    PostgresChangeLog,
    article,
    stored,
)
from syndicate.store.desk_postgres import PostgresDesk
from syndicate.store.feeds_postgres import PostgresFeeds
from syndicate.store.headlines_postgres import PostgresHeadlines
from syndicate.store.pg_connection import (
    FEEDS_CHANNEL,
    drop_schema,
    feeds_channel,
    lock_key,
    migrate,
    quote_ident,
    split_url,
    unavailable,
    with_schema,
)
from syndicate.store.pg_sessions import DB_ERRORS, FeedListener, Leadership
from syndicate.store.push_postgres import PostgresPush
from syndicate.store.reach_postgres import PostgresReach
from syndicate.store.tokens_postgres import PostgresTokens

# Where they were before the split: benchmarks, tests and tools import them from here.
__all__ = [
    "FEEDS_CHANNEL",
    "LEASE_SECONDS",
    "PostgresStore",
    "drop_schema",
    "feeds_channel",
    "quote_ident",
    "split_url",
    "unavailable",
    "with_schema",
]

log = logging.getLogger(__name__)

# Seconds a timer leader may go without a word to PostgreSQL before its lock is freed.
LEASE_SECONDS = 4
_COMMAND_TIMEOUT = 60.0  # seconds; far above a 1,000-record batch, far below "forever"
# The newest record of article `a` the public saw (its newest change not held), for the
# withdrawal and release rules; NULL if the public never saw it. Read only while `a` is held
# back: the rules use it for nothing else, and most withdrawals are of public stories.
_SEEN = (
    "CASE WHEN a.release_pending THEN (SELECT s.record FROM changes s "
    "WHERE s.article_id = a.id AND NOT s.held ORDER BY s.seq DESC LIMIT 1) END AS seen"
)


class PostgresStore(
    PostgresChangeLog,
    PostgresFeeds,
    PostgresTokens,
    PostgresPush,
    PostgresDesk,
    PostgresHeadlines,
    PostgresReach,
    BatchPuts,
    DecodedReads,
):
    """The scale-out store (`postgresql://user@host/db[?schema=name]`)."""

    def __init__(
        self, database_url: str, *, schema: str | None = None, max_connections: int = 10
    ) -> None:
        self._dsn, url_schema = split_url(database_url)
        self.schema = schema or url_schema
        self._max_connections = max_connections
        self._pool: Any = None
        self._leadership: Leadership | None = None
        self._listener: FeedListener | None = None
        self._change_lock = 0
        self._channel = FEEDS_CHANNEL

    # -- lifecycle ------------------------------------------------------------
    def _settings(self) -> dict[str, str]:
        settings = {"application_name": "syndicate"}
        if self.schema:
            settings["search_path"] = quote_ident(self.schema)
        return settings

    async def _connect(self, extra: dict[str, str] | None = None) -> Any:
        """A connection outside the pool, for sessions that hold a lock or a LISTEN."""
        # Server-side keepalives: if our host vanishes, its session (and the timer lock)
        # goes within about half a minute instead of the kernel's two hours.
        settings = self._settings() | {
            "tcp_keepalives_idle": "10",
            "tcp_keepalives_interval": "5",
            "tcp_keepalives_count": "3",
        }
        return await asyncpg.connect(
            self._dsn, server_settings=settings | (extra or {}), timeout=10
        )

    async def _connect_lease(self) -> Any:
        """The timer's lock session: a lease the leader renews with every `try_lead`.

        A stopped leader (SIGSTOP, a blocked loop, a paused VM) still answers TCP keep-alives
        through its kernel, so only the server can tell it has gone quiet: PostgreSQL ends the
        session after `LEASE_SECONDS` without a statement, which frees the lock for another
        process. The scheduler calls `try_lead` every second and before every job, so a
        working leader never comes near it; one that wakes finds its session gone and stops.
        """
        return await self._connect({"idle_session_timeout": str(LEASE_SECONDS * 1000)})

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=1,
                max_size=self._max_connections,
                server_settings=self._settings(),
                timeout=10,
                # A server that stops answering (a cut network, not a refused connection)
                # must turn into a 503 for the editor, not a request that hangs forever.
                command_timeout=_COMMAND_TIMEOUT,
            )
            async with self._pool.acquire() as conn:
                if self.schema is None:
                    self.schema = str(await conn.fetchval("SELECT current_schema()") or "public")
                await migrate(conn, self.schema)
        except DB_ERRORS as exc:
            await self.close()
            raise StoreError(f"store: cannot open PostgreSQL database: {exc}") from exc
        self._change_lock = lock_key("changes", self.schema)
        self._leadership = Leadership(self._connect_lease, lock_key("timer", self.schema))
        self._channel = feeds_channel(self.schema)
        self._listener = FeedListener(self._connect, self._channel, self._feed_sections)

    async def close(self) -> None:
        # Dropped, not just closed: a closed store must not reconnect to contend for the timer.
        # Each part is closed whatever the one before raised: a failed listener must not
        # leave the lock session (and with it the timer) or the pool open.
        listener, self._listener = self._listener, None
        leadership, self._leadership = self._leadership, None
        pool, self._pool = self._pool, None
        try:
            if listener is not None:
                await listener.close()
        finally:
            try:
                if leadership is not None:
                    await leadership.close()
            finally:
                if pool is not None:
                    await _close_pool(pool)

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise StoreError("store: not open")
        return self._pool

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Any]:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                yield conn
        except DB_ERRORS as exc:
            raise unavailable(exc) from exc

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        try:
            return list(await self.pool.fetch(sql, *args))
        except DB_ERRORS as exc:
            raise unavailable(exc) from exc

    # -- writes: each reads the rows it needs, asks `plan.py`, and executes the answer --------
    async def _put_all(
        self, records: Sequence[dict[str, Any]], now: datetime, expected_version: int | None
    ) -> list[PutResult]:
        ids = list(dict.fromkeys(str(r["id"]) for r in records))
        async with self._appending() as (conn, next_seq):
            rows = await conn.fetch(
                "SELECT a.id, a.version, a.status, a.content_hash, a.first_created, "
                "c.version_created, a.sections FROM articles a JOIN changes c ON c.seq = a.seq "
                "WHERE a.id = ANY($1::text[])",
                ids,
            )
            stored = {
                r["id"]: rules.Stored(
                    r["version"],
                    r["status"],
                    r["content_hash"],
                    r["first_created"],
                    r["version_created"],
                    tuple(r["sections"]),
                )
                for r in rows
            }
            plan = rules.plan_puts(
                records, stored, now=now, next_seq=next_seq, expected_version=expected_version
            )
            await self._append(conn, plan.entries)
            await _write_rows(conn, plan)
        return plan.results

    async def withdraw(self, article_id: str, *, now: datetime) -> Article:
        if "\x00" in article_id:
            raise NotFound(f"no article with id {article_id!r}")
        async with self._appending() as (conn, seq):
            row = await conn.fetchrow(
                f"SELECT {ARTICLE_COLUMNS}, a.release_pending, {_SEEN} FROM articles a "
                "JOIN changes c ON c.seq = a.seq WHERE a.id = $1",
                article_id,
            )
            if row is None:
                raise NotFound(f"no article with id {article_id!r}")
            current = article(row)
            seen = rules.record_or_none(row["seen"])
            pending = row["release_pending"]
            entry = rules.plan_withdraw(current, pending=pending, seen=seen, now=now, seq=seq)
            if entry is None:
                return current
            await self._append(conn, [entry])
            await conn.execute(
                "UPDATE articles SET seq = $1, version = $2, status = $3, "
                "release_pending = false WHERE id = $4",
                entry.seq,
                entry.article.version,
                WITHDRAWN,
                article_id,
            )
            await conn.execute(
                "UPDATE article_sections SET status = $1 WHERE article_id = $2",
                WITHDRAWN,
                article_id,
            )
        return entry.article

    async def release_due(self, *, now: datetime) -> list[Article]:
        # Exactly once: callers in every process queue on the change-log lock, and each reads
        # `release_pending` only after the previous holder committed (READ COMMITTED takes a
        # fresh snapshot per statement), so a release already written is not seen as due.
        async with self._appending() as (conn, next_seq):
            rows = await conn.fetch(
                f"SELECT {ARTICLE_COLUMNS}, {_SEEN} FROM articles a "
                "JOIN changes c ON c.seq = a.seq "
                "WHERE a.release_pending AND a.release_at <= $1 ORDER BY a.release_at, a.id",
                now,
            )
            due = [(article(r), rules.record_or_none(r["seen"])) for r in rows]
            entries = rules.plan_releases(due, next_seq=next_seq)
            await self._append(conn, entries)
            if entries:
                await conn.execute(
                    "UPDATE articles a SET release_pending = false, seq = u.seq "
                    "FROM unnest($1::text[], $2::bigint[]) AS u (id, seq) WHERE a.id = u.id",
                    [e.article.id for e in entries],
                    [e.seq for e in entries],
                )
        return [e.article for e in entries]

    # -- reads ----------------------------------------------------------------
    async def get(self, article_id: str) -> Article | None:
        if "\x00" in article_id:
            # PostgreSQL text cannot hold NUL, so no stored id has one: not found, as on SQLite.
            return None
        rows = await self._fetch(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a JOIN changes c ON c.seq = a.seq "
            "WHERE a.id = $1",
            article_id,
        )
        return article(rows[0]) if rows else None

    async def latest_stored(
        self, section: str | None, limit: int, *, now: datetime
    ) -> list[StoredArticle]:
        # `status = 'published'` is spelled as a literal so the partial indexes apply.
        if section is None:
            rows = await self._fetch(
                f"SELECT {ARTICLE_COLUMNS} FROM articles a JOIN changes c ON c.seq = a.seq "
                "WHERE a.status = 'published' AND a.release_at <= $1 "
                "ORDER BY a.published DESC, a.id LIMIT $2",
                now,
                limit,
            )
        else:
            rows = await self._fetch(
                f"SELECT {ARTICLE_COLUMNS} FROM article_sections s "
                "JOIN articles a ON a.id = s.article_id JOIN changes c ON c.seq = a.seq "
                "WHERE s.section = $1 AND s.status = 'published' AND s.release_at <= $2 "
                "ORDER BY s.published DESC, s.article_id LIMIT $3",
                section,
                now,
                limit,
            )
        return [stored(r) for r in rows]

    async def count(self, section: str | None, *, now: datetime) -> int:
        if section is None:
            rows = await self._fetch(
                "SELECT count(*) FROM articles WHERE status = 'published' AND release_at <= $1",
                now,
            )
        else:
            rows = await self._fetch(
                "SELECT count(*) FROM article_sections "
                "WHERE section = $1 AND status = 'published' AND release_at <= $2",
                section,
                now,
            )
        return int(rows[0][0])

    async def totals(self) -> dict[str, int]:
        counts = {"published": 0, "held": 0, "withdrawn": 0}
        rows = await self._fetch(
            "SELECT status, release_pending, COUNT(*) AS n FROM articles GROUP BY 1, 2"
        )
        for r in rows:
            pending = r["release_pending"]
            key = "withdrawn" if r["status"] == WITHDRAWN else "held" if pending else "published"
            counts[key] += int(r["n"])
        return counts

    async def pending_releases(self) -> list[tuple[str, datetime, tuple[str, ...]]]:
        rows = await self._fetch(
            # Past year 9999 (which PostgreSQL holds and Python cannot) reads as the latest
            # instant: one record must never stop every release (the scheduler names it).
            "SELECT id, LEAST(release_at, '9999-12-31 23:59:59.999999+00') AS release_at, "
            "sections FROM articles WHERE release_pending "
            "ORDER BY release_at, id"
        )
        return [(r["id"], r["release_at"], tuple(r["sections"])) for r in rows]


async def _write_rows(conn: Any, plan: rules.PutPlan) -> None:
    """The articles rows a put plan leaves, and their section placements."""
    if not plan.rows:
        return
    rows = [
        (
            article_id,
            row.entry.seq,
            row.entry.article.version,
            row.entry.article.status,
            row.digest,
            row.entry.article.published,
            row.entry.article.release_at,
            row.entry.held,
            row.entry.article.first_created,
            list(row.entry.article.sections),
        )
        for article_id, row in plan.rows.items()
    ]
    await conn.executemany(
        "INSERT INTO articles (id, seq, version, status, content_hash, published, "
        "release_at, release_pending, first_created, sections) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version, "
        "status = excluded.status, content_hash = excluded.content_hash, "
        "published = excluded.published, release_at = excluded.release_at, "
        "release_pending = excluded.release_pending, sections = excluded.sections",
        rows,
    )
    if plan.replaced:
        await conn.execute(
            "DELETE FROM article_sections WHERE article_id = ANY($1::text[])",
            sorted(plan.replaced),
        )
    placed = [(s, r[0], r[5], r[6]) for r in rows for s in r[9]]
    await conn.execute(
        "INSERT INTO article_sections (section, article_id, published, release_at, status) "
        "SELECT section, article_id, published, release_at, 'published' FROM unnest("
        "$1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) "
        "AS t (section, article_id, published, release_at)",
        [p[0] for p in placed],
        [p[1] for p in placed],
        [p[2] for p in placed],
        [p[3] for p in placed],
    )


# A graceful close waits for every connection to be released, for good if one never is (CI:
# a server asked to stop sat in `Pool.close()` past its supervisor's 10 s, every task done).
# After this long, the rest are cut (asyncpg's advice: `wait_for`, then `terminate`).
POOL_CLOSE_SECONDS = 3.0


async def _close_pool(pool: Any) -> None:
    try:
        await asyncio.wait_for(pool.close(), POOL_CLOSE_SECONDS)
    except TimeoutError:
        log.warning("store: connections still in use after %g s at close; cut", POOL_CLOSE_SECONDS)
        pool.terminate()
