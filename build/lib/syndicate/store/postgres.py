"""PostgreSQL store (asyncpg pool) for scale-out: several processes share one database.

Same tables and semantics as `sqlite.py`. What only PostgreSQL needs is here too: a
commit-ordered change log, exactly-once releases across processes, NOTIFY on saved feeds and a
session advisory lock electing the process that runs the timer (see `pg_sessions.py`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from syndicate.errors import NotFound, PreconditionFailed, StoreError
from syndicate.model import (
    PUBLISHED,
    WITHDRAWN,
    Article,
    Change,
    ChangeKind,
    FeedDocument,
    PutResult,
    content_hash,
)
from syndicate.store.base import BatchPuts
from syndicate.store.desk_postgres import PostgresDesk
from syndicate.store.headlines_postgres import PostgresHeadlines
from syndicate.store.migrations import POSTGRES as MIGRATIONS
from syndicate.store.pg_sessions import DB_ERRORS, FeedListener, Leadership
from syndicate.store.push_postgres import PostgresPush
from syndicate.store.reach_postgres import PostgresReach
from syndicate.store.tokens_postgres import PostgresTokens

log = logging.getLogger(__name__)

FEEDS_CHANNEL = "syndicate_feeds"  # the prefix: each schema has its own channel


# Seconds a timer leader may go without a word to PostgreSQL before its lock is freed.
LEASE_SECONDS = 4
_COMMAND_TIMEOUT = 60.0  # seconds; far above a 1,000-record batch, far below "forever"
_ARTICLE_COLUMNS = "c.record, c.version, c.status, c.first_created, c.version_created"
_SEARCH_PATH_OPTION = re.compile(r"\s*-c\s*search_path\s*=\s*([^\s,]+)\s*")


def split_url(database_url: str) -> tuple[str, str | None]:
    """The DSN asyncpg should see, and the schema named by `?schema=` or `?options=`."""
    parts = urlsplit(database_url)
    schema: str | None = None
    kept: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        match = _SEARCH_PATH_OPTION.fullmatch(value) if key == "options" else None
        if key == "schema" and value:
            schema = value
        elif match is not None:
            schema = match.group(1).strip('"')
        else:
            kept.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(kept))), schema


def with_schema(database_url: str, schema: str) -> str:
    """`database_url` naming `schema` (`?schema=`), replacing any schema it named."""
    dsn, _ = split_url(database_url)
    parts = urlsplit(dsn)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("schema", schema)]
    return urlunsplit(parts._replace(query=urlencode(query)))


async def drop_schema(database_url: str) -> None:
    """Drop the schema `database_url` names, and everything in it (benchmarks, tests)."""
    dsn, schema = split_url(database_url)
    if not schema:
        raise StoreError("store: no schema named in the URL; refusing to drop anything")
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")
        finally:
            await conn.close()
    except DB_ERRORS as exc:
        raise StoreError(f"store: cannot drop schema {schema}: {exc}") from exc


def unavailable(exc: BaseException) -> StoreError:
    """The one StoreError a driver failure becomes: the driver's text goes to the log only.

    Clients see a fixed message (no SQL, no server names, no values they sent); operators find
    the cause in the log line written here.
    """
    log.warning("store: PostgreSQL unavailable: %s: %s", type(exc).__name__, exc)
    return StoreError("store: database unavailable")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lock_key(purpose: str, schema: str) -> int:
    """A signed 64-bit advisory-lock key, one per purpose and schema.

    Advisory locks are per database, not per schema: deployments (or test runs) sharing a
    database in different schemas must not contend for each other's locks.
    """
    digest = hashlib.blake2b(f"syndicate:{purpose}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def feeds_channel(schema: str) -> str:
    """The NOTIFY channel of one schema's saved feeds.

    Channels, like advisory locks, are per database: deployments or tests sharing a database
    in different schemas must not wake each other. A digest keeps the name under PostgreSQL's
    63-byte identifier limit whatever the schema is called.
    """
    return f"{FEEDS_CHANNEL}_{hashlib.blake2b(schema.encode(), digest_size=8).hexdigest()}"


def _article(row: Any) -> Article:
    return Article.from_record(
        json.loads(row["record"]),
        version=row["version"],
        status=row["status"],
        first_created=row["first_created"],
        version_created=row["version_created"],
    )


def _dump(article: Article) -> str:
    return json.dumps(dict(article.record), ensure_ascii=False, separators=(",", ":"))


@dataclass(slots=True)
class _Current:
    """An article's state as a write batch sees it (the stored one, or the batch's newest)."""

    article: Article
    digest: str
    pending: bool


@dataclass(slots=True)
class _ChangeBatch:
    """Change-log rows appended by one transaction, written with one statement per table."""

    next_seq: int
    changes: list[tuple[Any, ...]] = field(default_factory=list)
    sections: list[tuple[str, int]] = field(default_factory=list)

    def append(self, article: Article, kind: ChangeKind, held: bool, touched: set[str]) -> int:
        seq = self.next_seq
        self.next_seq += 1
        self.changes.append(
            (
                seq,
                article.id,
                article.version,
                article.status,
                kind,
                held,
                _dump(article),
                article.first_created,
                article.version_created,
            )
        )
        self.sections.extend((s, seq) for s in sorted(touched))
        return seq

    async def write(self, conn: Any) -> None:
        if not self.changes:
            return
        await conn.execute(
            "INSERT INTO changes (seq, article_id, version, status, kind, held, record, "
            "first_created, version_created) SELECT * FROM unnest($1::bigint[], $2::text[], "
            "$3::int[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::timestamptz[], "
            "$9::timestamptz[])",
            *zip(*self.changes, strict=True),
        )
        sections, seqs = zip(*self.sections, strict=True)
        await conn.execute(
            "INSERT INTO change_sections (section, seq) "
            "SELECT * FROM unnest($1::text[], $2::bigint[])",
            sections,
            seqs,
        )
        await conn.execute(
            "INSERT INTO section_changes (section, seq) "
            "SELECT section, max(seq) FROM unnest($1::text[], $2::bigint[]) AS t (section, seq) "
            "GROUP BY section ON CONFLICT (section) DO UPDATE SET seq = excluded.seq",
            sections,
            seqs,
        )


class PostgresStore(
    PostgresTokens, PostgresPush, PostgresDesk, PostgresHeadlines, PostgresReach, BatchPuts
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
                await self._migrate(conn, self.schema)
        except DB_ERRORS as exc:
            await self.close()
            raise StoreError(f"store: cannot open PostgreSQL database: {exc}") from exc
        self._change_lock = _lock_key("changes", self.schema)
        self._leadership = Leadership(self._connect_lease, _lock_key("timer", self.schema))
        self._channel = feeds_channel(self.schema)
        self._listener = FeedListener(self._connect, self._channel, self._feed_sections)

    async def _migrate(self, conn: Any, schema: str) -> None:
        # Processes starting together queue here; each then sees what the first one applied.
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key("migrate", schema))
            exists = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema
            )
            if not exists:
                await conn.execute(f"CREATE SCHEMA {quote_ident(schema)}")
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, applied TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            done = int(
                await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            )
            for number, script in enumerate(MIGRATIONS, start=1):
                if number > done:
                    await conn.execute(script)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version) VALUES ($1)", number
                    )

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
                    await pool.close()

    def health(self) -> dict[str, Any]:
        """`degraded` when this process has not heard from PostgreSQL for a while."""
        if self._listener is None:
            return {"degraded": False}
        listener = self._listener.health()
        return {"degraded": listener["degraded"], "feed_listener": listener}

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

    @asynccontextmanager
    async def _appending(self) -> AsyncIterator[tuple[Any, _ChangeBatch]]:
        """A transaction that appends to the change log, holding the change-log lock.

        Partners pull "seq > cursor", so a seq must never become visible after a higher one:
        with a plain sequence, writer A can take seq 10, writer B seq 11, B commits, a partner
        reads up to 11, then A commits 10 and that partner never sees it. So every transaction
        that appends takes one transaction-level advisory lock first and allocates seqs
        (max + 1) under it. PostgreSQL makes a commit visible before it releases the
        transaction's locks, so the next holder's seqs are higher and become visible later.
        The price is that writers of the change log run one at a time (including across
        processes) - fine for a newsroom's write rate, and `put_many` batches amortise it.
        Readers never take the lock. Callers `batch.write(conn)` before touching rows that
        refer to the new seqs.
        """
        async with self._transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", self._change_lock)
            next_seq = int(await conn.fetchval("SELECT COALESCE(MAX(seq), 0) FROM changes")) + 1
            batch = _ChangeBatch(next_seq)
            yield conn, batch

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        try:
            return list(await self.pool.fetch(sql, *args))
        except DB_ERRORS as exc:
            raise unavailable(exc) from exc

    # -- writes ---------------------------------------------------------------
    async def _put_all(
        self, records: Sequence[dict[str, Any]], now: datetime, expected_version: int | None
    ) -> list[PutResult]:
        ids = list(dict.fromkeys(str(r["id"]) for r in records))
        results: list[PutResult] = []
        async with self._appending() as (conn, batch):
            rows = await conn.fetch(
                f"SELECT a.id, a.content_hash, a.release_pending, {_ARTICLE_COLUMNS} "
                "FROM articles a JOIN changes c ON c.seq = a.seq WHERE a.id = ANY($1::text[])",
                ids,
            )
            current = {
                r["id"]: _Current(_article(r), r["content_hash"], r["release_pending"])
                for r in rows
            }
            touched: dict[str, tuple[int, _Current]] = {}
            for record in records:
                result = self._put_one(record, now, expected_version, current, batch, touched)
                results.append(result)
            await batch.write(conn)
            if touched:
                await self._write_articles(conn, touched, replace=bool(rows))
        return results

    @staticmethod
    def _put_one(
        record: dict[str, Any],
        now: datetime,
        expected_version: int | None,
        current: dict[str, _Current],
        batch: _ChangeBatch,
        touched: dict[str, tuple[int, _Current]],
    ) -> PutResult:
        article_id = str(record["id"])
        old = current.get(article_id)
        if expected_version is not None:
            stored = old.article.version if old else None
            if stored != expected_version:
                raise PreconditionFailed(
                    f"article {article_id!r} does not exist"
                    if stored is None
                    else f"article {article_id!r} is at version {stored}, not {expected_version}"
                )
        digest = content_hash(record)
        if old is not None and old.article.status == PUBLISHED and old.digest == digest:
            return PutResult("unchanged", old.article)
        article = Article.from_record(
            record,
            version=old.article.version + 1 if old else 1,
            status=PUBLISHED,
            first_created=old.article.first_created if old else now,
            version_created=now,
        )
        held = article.release_at > now
        kind: Literal["created", "updated"] = "updated" if old else "created"
        old_sections = set(old.article.sections) if old else set()
        seq = batch.append(article, kind, held, old_sections | set(article.sections))
        state = _Current(article, digest, held)
        current[article_id] = state
        touched[article_id] = (seq, state)
        return PutResult(kind, article)

    @staticmethod
    async def _write_articles(
        conn: Any, touched: dict[str, tuple[int, _Current]], *, replace: bool
    ) -> None:
        rows = [
            (
                article_id,
                seq,
                state.article.version,
                state.article.status,
                state.digest,
                state.article.published,
                state.article.release_at,
                state.pending,
                state.article.first_created,
                list(state.article.sections),
            )
            for article_id, (seq, state) in touched.items()
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
        owners = [r[0] for r in rows for _ in r[9]]
        sections = [s for r in rows for s in r[9]]
        if replace:
            await conn.execute(
                "DELETE FROM article_sections WHERE article_id = ANY($1::text[])", list(touched)
            )
        published = {r[0]: (r[5], r[6]) for r in rows}
        await conn.execute(
            "INSERT INTO article_sections (section, article_id, published, release_at, status) "
            "SELECT section, article_id, published, release_at, 'published' FROM unnest("
            "$1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) "
            "AS t (section, article_id, published, release_at)",
            sections,
            owners,
            [published[o][0] for o in owners],
            [published[o][1] for o in owners],
        )

    async def withdraw(self, article_id: str, *, now: datetime) -> Article:
        if "\x00" in article_id:
            raise NotFound(f"no article with id {article_id!r}")
        async with self._appending() as (conn, batch):
            row = await conn.fetchrow(
                f"SELECT {_ARTICLE_COLUMNS}, a.release_pending FROM articles a "
                "JOIN changes c ON c.seq = a.seq WHERE a.id = $1",
                article_id,
            )
            if row is None:
                raise NotFound(f"no article with id {article_id!r}")
            current = _article(row)
            if current.status == WITHDRAWN:
                return current
            # Withdrawing a story the public never saw must not reveal it to them; one they
            # saw (even if a later version is held again) needs its kill notice everywhere,
            # carrying what they saw, never the held version's text.
            held = False
            notice = current.record
            sections = set(current.sections)
            if row["release_pending"]:
                seen = await conn.fetchval(
                    "SELECT record FROM changes WHERE article_id = $1 AND NOT held "
                    "ORDER BY seq DESC LIMIT 1",
                    article_id,
                )
                held = seen is None
                if seen is not None:
                    notice = json.loads(seen)
                    sections |= set(notice["sections"])
            withdrawn = Article.from_record(
                notice,
                version=current.version + 1,
                status=WITHDRAWN,
                first_created=current.first_created,
                version_created=now,
            )
            seq = batch.append(withdrawn, "withdrawn", held, sections)
            await batch.write(conn)
            await conn.execute(
                "UPDATE articles SET seq = $1, version = $2, status = $3, "
                "release_pending = false WHERE id = $4",
                seq,
                withdrawn.version,
                WITHDRAWN,
                article_id,
            )
            await conn.execute(
                "UPDATE article_sections SET status = $1 WHERE article_id = $2",
                WITHDRAWN,
                article_id,
            )
        return withdrawn

    async def release_due(self, *, now: datetime) -> list[Article]:
        # Exactly once: callers in every process queue on the change-log lock, and each reads
        # `release_pending` only after the previous holder committed (READ COMMITTED takes a
        # fresh snapshot per statement), so a release already written is not seen as due.
        async with self._appending() as (conn, batch):
            rows = await conn.fetch(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN changes c ON c.seq = a.seq "
                "WHERE a.release_pending AND a.release_at <= $1 ORDER BY a.release_at, a.id",
                now,
            )
            released = [_article(r) for r in rows]
            # A story the public saw elsewhere before a held move: those sections' partners
            # hear of the release too (as they would of a move without one).
            seen = dict(
                await conn.fetch(
                    "SELECT DISTINCT ON (article_id) article_id, record FROM changes "
                    "WHERE article_id = ANY($1::text[]) AND NOT held "
                    "ORDER BY article_id, seq DESC",
                    [a.id for a in released],
                )
            )
            seqs = [
                batch.append(
                    a,
                    "released",
                    False,
                    set(a.sections)
                    | set(json.loads(seen[a.id])["sections"] if a.id in seen else ()),
                )
                for a in released
            ]
            await batch.write(conn)
            if released:
                await conn.execute(
                    "UPDATE articles a SET release_pending = false, seq = u.seq "
                    "FROM unnest($1::text[], $2::bigint[]) AS u (id, seq) WHERE a.id = u.id",
                    [a.id for a in released],
                    seqs,
                )
        return released

    # -- reads ----------------------------------------------------------------
    async def get(self, article_id: str) -> Article | None:
        if "\x00" in article_id:
            # PostgreSQL text cannot hold NUL, so no stored id has one: not found, as on SQLite.
            return None
        rows = await self._fetch(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN changes c ON c.seq = a.seq "
            "WHERE a.id = $1",
            article_id,
        )
        return _article(rows[0]) if rows else None

    async def latest(self, section: str | None, limit: int, *, now: datetime) -> list[Article]:
        # `status = 'published'` is spelled as a literal so the partial indexes apply.
        if section is None:
            rows = await self._fetch(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN changes c ON c.seq = a.seq "
                "WHERE a.status = 'published' AND a.release_at <= $1 "
                "ORDER BY a.published DESC, a.id LIMIT $2",
                now,
                limit,
            )
        else:
            rows = await self._fetch(
                f"SELECT {_ARTICLE_COLUMNS} FROM article_sections s "
                "JOIN articles a ON a.id = s.article_id JOIN changes c ON c.seq = a.seq "
                "WHERE s.section = $1 AND s.status = 'published' AND s.release_at <= $2 "
                "ORDER BY s.published DESC, s.article_id LIMIT $3",
                section,
                now,
                limit,
            )
        return [_article(r) for r in rows]

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

    async def changes_since(
        self, section: str, after_seq: int, limit: int, *, include_held: bool
    ) -> list[Change]:
        rows = await self._fetch(
            f"SELECT {_ARTICLE_COLUMNS}, c.seq, c.kind, c.held FROM change_sections cs "
            "JOIN changes c ON c.seq = cs.seq "
            "WHERE cs.section = $1 AND cs.seq > $2 AND (NOT c.held OR $3) "
            "ORDER BY cs.seq LIMIT $4",
            section,
            after_seq,
            include_held,
            limit,
        )
        return [
            Change(seq=r["seq"], kind=r["kind"], article=_article(r), held=r["held"]) for r in rows
        ]

    async def histories(
        self, article_ids: Sequence[str], up_to_seq: int
    ) -> dict[str, list[Change]]:
        found: dict[str, list[Change]] = {i: [] for i in article_ids}
        rows = await self._fetch(
            f"SELECT {_ARTICLE_COLUMNS}, c.seq, c.kind, c.held, c.article_id FROM changes c "
            "WHERE c.article_id = ANY($1::text[]) AND c.seq <= $2 ORDER BY c.seq",
            list(found),
            up_to_seq,
        )
        for r in rows:
            change = Change(seq=r["seq"], kind=r["kind"], article=_article(r), held=r["held"])
            found[r["article_id"]].append(change)
        return found

    async def max_seq(self) -> int:
        rows = await self._fetch("SELECT COALESCE(MAX(seq), 0) FROM changes")
        return int(rows[0][0])

    async def pending_releases(self) -> list[tuple[str, datetime, tuple[str, ...]]]:
        rows = await self._fetch(
            # Past year 9999 (which PostgreSQL holds and Python cannot) reads as the latest
            # instant: one record must never stop every release (the scheduler names it).
            "SELECT id, LEAST(release_at, '9999-12-31 23:59:59.999999+00') AS release_at, "
            "sections FROM articles WHERE release_pending "
            "ORDER BY release_at, id"
        )
        return [(r["id"], r["release_at"], tuple(r["sections"])) for r in rows]

    async def section_seqs(self) -> dict[str, int]:
        rows = await self._fetch("SELECT section, seq FROM section_changes")
        return {r["section"]: int(r["seq"]) for r in rows}

    # -- the service's own keys ---------------------------------------------------
    async def service_key(self, name: str, size: int) -> bytes:
        for _ in range(3):
            rows = await self._fetch(
                # Two processes starting together agree on the first one's key. The second
                # statement's snapshot can miss a row committed while it waited: ask again.
                "WITH made AS (INSERT INTO service_keys (name, value) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING RETURNING value) "
                "SELECT value FROM made UNION ALL SELECT value FROM service_keys WHERE name = $1",
                name,
                secrets.token_bytes(size),
            )
            if rows:
                return bytes(rows[0]["value"])
        raise StoreError(f"store: cannot read the service key {name!r}")

    async def save_feeds(self, documents: Sequence[FeedDocument]) -> None:
        if not documents:
            return
        async with self._transaction() as conn:
            # Two processes can regenerate a section at once (the timer on one, an editor's
            # button on another) and save in the opposite order to the one they read in: the
            # render that read the newer store state (`seq`) wins, so an older one landing
            # last cannot put a stale feed back; between renders of one state, the later one
            # (a release due by the clock). Identical bytes keep the time they were first
            # made, so Last-Modified does not move when nothing changed.
            await conn.executemany(
                "INSERT INTO feeds (section, name, body, generated, seq) "
                "VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (section, name) DO UPDATE SET body = excluded.body, "
                "generated = excluded.generated, seq = excluded.seq "
                "WHERE feeds.body <> excluded.body "
                "AND (feeds.seq, feeds.generated) < (excluded.seq, excluded.generated)",
                [(d.section, d.name, d.body, d.generated, d.seq) for d in documents],
            )
            # Delivered on commit, and only then: listeners never load half-saved feeds. Sent
            # even when a save lost to a newer one, so the loser's process reloads the winner.
            for section in sorted({d.section for d in documents}):
                await conn.execute("SELECT pg_notify($1, $2)", self._channel, section)

    async def load_feeds(self, section: str | None = None) -> list[FeedDocument]:
        sql = "SELECT section, name, body, generated, seq FROM feeds"
        if section is None:
            rows = await self._fetch(sql + " ORDER BY section, name")
        else:
            rows = await self._fetch(sql + " WHERE section = $1 ORDER BY name", section)
        return [
            FeedDocument(r["section"], r["name"], bytes(r["body"]), r["generated"], int(r["seq"]))
            for r in rows
        ]

    async def _feed_sections(self) -> list[str]:
        rows = await self._fetch("SELECT DISTINCT section FROM feeds ORDER BY section")
        return [r["section"] for r in rows]

    async def subscribe_feeds(self, callback: Callable[[str], None]) -> None:
        # Our own saves are heard too (the listener is a separate session): a reload of what
        # we just wrote is cheap, and filtering by backend pid could drop a real notification.
        if self._listener is None:
            raise StoreError("store: not open")
        await self._listener.add(callback)

    async def try_lead(self) -> bool:
        if self._leadership is None:
            raise StoreError("store: not open")
        return await self._leadership.try_lead()

    async def resign(self) -> None:
        if self._leadership is not None:
            await self._leadership.resign()
