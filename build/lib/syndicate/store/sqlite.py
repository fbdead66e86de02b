"""SQLite store: WAL, one writer connection (`BEGIN IMMEDIATE`), one reader; both off the loop.

Articles keep a pointer to their newest change; the change log holds every version's record,
so partners can replay changes in order and feeds read one indexed range per section.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from syndicate.errors import NotFound, PreconditionFailed, StoreError
from syndicate.model import (
    PUBLISHED,
    WITHDRAWN,
    Article,
    Change,
    FeedDocument,
    PutResult,
    canonical_json,
    format_time,
    hash_canonical,
    parse_time,
)
from syndicate.store.base import BatchPuts
from syndicate.store.desk_sqlite import SQLiteDesk
from syndicate.store.headlines_sqlite import SQLiteHeadlines
from syndicate.store.migrations import SQLITE as MIGRATIONS
from syndicate.store.push_sqlite import SQLitePush
from syndicate.store.reach_sqlite import SQLiteReach
from syndicate.store.tokens_sqlite import SQLiteTokens

_ARTICLE_COLUMNS = "c.record, c.version, c.status, c.first_created, c.version_created"


def _path_from_url(url: str) -> str:
    if url in ("sqlite://", "sqlite:///:memory:"):
        return ":memory:"
    if not url.startswith("sqlite:///"):
        raise StoreError(f"store: expected sqlite:///path, got {url!r}")
    return url[len("sqlite:///") :]


def _article(row: Sequence[Any]) -> Article:
    record, version, status, first_created, version_created = row[:5]
    return Article.from_record(
        json.loads(record),
        version=version,
        status=status,
        first_created=parse_time(first_created),
        version_created=parse_time(version_created),
    )


def _ts(value: datetime) -> float:
    return value.timestamp()


class SQLiteStore(SQLiteTokens, SQLitePush, SQLiteDesk, SQLiteHeadlines, SQLiteReach, BatchPuts):
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
            await self._migrate(self._writer)
            if self.path == ":memory:":
                self._reader = self._writer
            else:
                self._reader = await aiosqlite.connect(self.path, isolation_level=None)
                await self._reader.execute("PRAGMA busy_timeout=10000")
                await self._reader.execute("PRAGMA query_only=1")
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
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise StoreError("store: not open")
        return self._reader

    # -- writes ---------------------------------------------------------------
    async def _put_all(
        self, records: Sequence[dict[str, Any]], now: datetime, expected_version: int | None
    ) -> list[PutResult]:
        """Store a batch in one transaction with a handful of statements, not a few per record.

        Every statement is a hop to the connection's thread, so the batch is planned in
        Python (outcomes, versions, seqs) and written with `executemany`.
        """
        async with self._transaction() as db:
            return await self._write_batch(db, records, now, expected_version)

    async def _write_batch(
        self,
        db: aiosqlite.Connection,
        records: Sequence[dict[str, Any]],
        now: datetime,
        expected_version: int | None,
    ) -> list[PutResult]:
        ids = list(dict.fromkeys(r["id"] for r in records))
        # id -> (version, status, content_hash, first_created, sections json, version_created)
        state: dict[str, tuple[int, str, str, str, str, str]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            async with db.execute(
                "SELECT a.id, a.version, a.status, a.content_hash, a.first_created, a.sections, "
                f"c.version_created FROM articles a JOIN changes c ON c.seq = a.seq "
                f"WHERE a.id IN ({marks})",
                chunk,
            ) as cur:
                for row in await cur.fetchall():
                    state[row[0]] = (row[1], row[2], row[3], row[4], row[5], row[6])
        async with db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes") as cur:
            top = await cur.fetchone()
        seq = int(top[0]) if top else 0

        stamp = format_time(now)
        replaced = set(state)  # ids that already have section placements to clear
        results: list[PutResult] = []
        changes: list[tuple[Any, ...]] = []
        change_sections: list[tuple[str, int]] = []
        touched: dict[str, int] = {}
        articles: dict[str, tuple[Any, ...]] = {}
        placements: dict[str, list[tuple[Any, ...]]] = {}
        for record in records:
            article_id = record["id"]
            old = state.get(article_id)
            if expected_version is not None:
                current = old[0] if old else None
                if current != expected_version:
                    raise PreconditionFailed(
                        f"article {article_id!r} does not exist"
                        if current is None
                        else f"article {article_id!r} is at version {current}, "
                        f"not {expected_version}"
                    )
            digest = hash_canonical(canonical_json(record))
            if old is not None and old[1] == PUBLISHED and old[2] == digest:
                unchanged = Article.from_record(
                    record,
                    version=old[0],
                    status=PUBLISHED,
                    first_created=parse_time(old[3]),
                    version_created=parse_time(old[5]),
                )
                results.append(PutResult("unchanged", unchanged))
                continue
            version = old[0] + 1 if old else 1
            first_created = old[3] if old else stamp
            article = Article.from_record(
                record,
                version=version,
                status=PUBLISHED,
                first_created=parse_time(first_created),
                version_created=now,
            )
            held = article.release_at > now
            seq += 1
            sections = sorted(set(json.loads(old[4]) if old else ()) | set(article.sections))
            changes.append(
                (
                    seq,
                    article_id,
                    version,
                    PUBLISHED,
                    "updated" if old else "created",
                    1 if held else 0,
                    # The editor's key order is kept: the record reads back as it was sent.
                    json.dumps(dict(article.record), ensure_ascii=False, separators=(",", ":")),
                    first_created,
                    stamp,
                )
            )
            change_sections.extend((s, seq) for s in sections)
            for s in sections:
                touched[s] = seq
            published_ts = _ts(article.published)
            release_ts = _ts(article.release_at)
            sections_json = json.dumps(list(article.sections))
            articles[article_id] = (
                article_id,
                seq,
                version,
                PUBLISHED,
                digest,
                published_ts,
                release_ts,
                1 if held else 0,
                first_created,
                sections_json,
            )
            placements[article_id] = [
                (s, article_id, published_ts, release_ts, PUBLISHED) for s in article.sections
            ]
            state[article_id] = (version, PUBLISHED, digest, first_created, sections_json, stamp)
            results.append(PutResult("updated" if old else "created", article))
        if not changes:
            return results
        await db.executemany(
            "INSERT INTO changes (seq, article_id, version, status, kind, held, record, "
            "first_created, version_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            changes,
        )
        await db.executemany(
            "INSERT INTO change_sections (section, seq) VALUES (?, ?)", change_sections
        )
        await db.executemany(
            "INSERT INTO section_changes (section, seq) VALUES (?, ?) "
            "ON CONFLICT (section) DO UPDATE SET seq = excluded.seq",
            sorted(touched.items()),
        )
        await db.executemany(
            "INSERT INTO articles (id, seq, version, status, content_hash, published_ts, "
            "release_ts, release_pending, first_created, sections) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version, "
            "status = excluded.status, content_hash = excluded.content_hash, "
            "published_ts = excluded.published_ts, release_ts = excluded.release_ts, "
            "release_pending = excluded.release_pending, sections = excluded.sections",
            list(articles.values()),
        )
        moved = [(i,) for i in placements if i in replaced]
        if moved:
            await db.executemany("DELETE FROM article_sections WHERE article_id = ?", moved)
        await db.executemany(
            "INSERT INTO article_sections (section, article_id, published_ts, release_ts, status) "
            "VALUES (?, ?, ?, ?, ?)",
            [row for rows in placements.values() for row in rows],
        )
        return results

    async def _append_change(
        self,
        db: aiosqlite.Connection,
        article: Article,
        kind: str,
        held: bool,
        first_created: str,
        version_created: str,
        sections: set[str],
    ) -> int:
        cur = await db.execute(
            "INSERT INTO changes (article_id, version, status, kind, held, record, "
            "first_created, version_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.id,
                article.version,
                article.status,
                kind,
                1 if held else 0,
                json.dumps(dict(article.record), ensure_ascii=False, separators=(",", ":")),
                first_created,
                version_created,
            ),
        )
        seq = cur.lastrowid
        await cur.close()
        assert seq is not None
        ordered = sorted(sections)
        await db.executemany(
            "INSERT INTO change_sections (section, seq) VALUES (?, ?)", [(s, seq) for s in ordered]
        )
        await db.executemany(
            "INSERT INTO section_changes (section, seq) VALUES (?, ?) "
            "ON CONFLICT (section) DO UPDATE SET seq = excluded.seq",
            [(s, seq) for s in ordered],
        )
        return seq

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

    async def withdraw(self, article_id: str, *, now: datetime) -> Article:
        async with self._transaction() as db:
            async with db.execute(
                f"SELECT {_ARTICLE_COLUMNS}, a.release_pending FROM articles a "
                "JOIN changes c ON c.seq = a.seq WHERE a.id = ?",
                (article_id,),
            ) as cur:
                row = await cur.fetchone()
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
            if row[5]:
                async with db.execute(
                    "SELECT record FROM changes WHERE article_id = ? AND held = 0 "
                    "ORDER BY seq DESC LIMIT 1",
                    (article_id,),
                ) as cur:
                    seen = await cur.fetchone()
                held = seen is None
                if seen is not None:
                    notice = json.loads(seen[0])
                    sections |= set(notice["sections"])
            withdrawn = Article.from_record(
                notice,
                version=current.version + 1,
                status=WITHDRAWN,
                first_created=current.first_created,
                version_created=now,
            )
            assert current.first_created is not None
            seq = await self._append_change(
                db,
                withdrawn,
                "withdrawn",
                held,
                format_time(current.first_created),
                format_time(now),
                sections,
            )
            await db.execute(
                "UPDATE articles SET seq = ?, version = ?, status = ?, release_pending = 0 "
                "WHERE id = ?",
                (seq, withdrawn.version, WITHDRAWN, article_id),
            )
            await db.execute(
                "UPDATE article_sections SET status = ? WHERE article_id = ?",
                (WITHDRAWN, article_id),
            )
        return withdrawn

    async def release_due(self, *, now: datetime) -> list[Article]:
        released: list[Article] = []
        async with self._transaction() as db:
            async with db.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN changes c ON c.seq = a.seq "
                "WHERE a.release_pending = 1 AND a.release_ts <= ? ORDER BY a.release_ts, a.id",
                (_ts(now),),
            ) as cur:
                rows = await cur.fetchall()
            for row in rows:
                article = _article(row)
                assert article.first_created is not None and article.version_created is not None
                # A story the public saw elsewhere before a held move: those sections'
                # partners hear of the release too (as they would of a move without one).
                async with db.execute(
                    "SELECT record FROM changes WHERE article_id = ? AND held = 0 "
                    "ORDER BY seq DESC LIMIT 1",
                    (article.id,),
                ) as cur:
                    seen = await cur.fetchone()
                sections = set(article.sections)
                if seen is not None:
                    sections |= set(json.loads(seen[0])["sections"])
                seq = await self._append_change(
                    db,
                    article,
                    "released",
                    False,
                    format_time(article.first_created),
                    format_time(article.version_created),
                    sections,
                )
                await db.execute(
                    "UPDATE articles SET release_pending = 0, seq = ? WHERE id = ?",
                    (seq, article.id),
                )
                released.append(article)
        return released

    # -- reads ----------------------------------------------------------------
    async def get(self, article_id: str) -> Article | None:
        async with self.reader.execute(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN changes c ON c.seq = a.seq "
            "WHERE a.id = ?",
            (article_id,),
        ) as cur:
            row = await cur.fetchone()
        return _article(row) if row else None

    async def latest(self, section: str | None, limit: int, *, now: datetime) -> list[Article]:
        if section is None:
            sql = (
                f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN changes c ON c.seq = a.seq "
                "WHERE a.status = 'published' AND a.release_ts <= ? "
                "ORDER BY a.published_ts DESC, a.id LIMIT ?"
            )
            params: tuple[Any, ...] = (_ts(now), limit)
        else:
            sql = (
                f"SELECT {_ARTICLE_COLUMNS} FROM article_sections s "
                "JOIN articles a ON a.id = s.article_id JOIN changes c ON c.seq = a.seq "
                "WHERE s.section = ? AND s.status = 'published' AND s.release_ts <= ? "
                "ORDER BY s.published_ts DESC, s.article_id LIMIT ?"
            )
            params = (section, _ts(now), limit)
        async with self.reader.execute(sql, params) as cur:
            rows = await cur.fetchall()
        return [_article(r) for r in rows]

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

    async def changes_since(
        self, section: str, after_seq: int, limit: int, *, include_held: bool
    ) -> list[Change]:
        async with self.reader.execute(
            f"SELECT {_ARTICLE_COLUMNS}, c.seq, c.kind, c.held FROM change_sections cs "
            "JOIN changes c ON c.seq = cs.seq "
            "WHERE cs.section = ? AND cs.seq > ? AND (c.held = 0 OR ?) "
            "ORDER BY cs.seq LIMIT ?",
            (section, after_seq, 1 if include_held else 0, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [Change(seq=r[5], kind=r[6], article=_article(r), held=bool(r[7])) for r in rows]

    async def histories(
        self, article_ids: Sequence[str], up_to_seq: int
    ) -> dict[str, list[Change]]:
        found: dict[str, list[Change]] = {i: [] for i in article_ids}
        ids = list(found)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            async with self.reader.execute(
                f"SELECT {_ARTICLE_COLUMNS}, c.seq, c.kind, c.held, c.article_id FROM changes c "
                f"WHERE c.article_id IN ({marks}) AND c.seq <= ? ORDER BY c.seq",
                (*chunk, up_to_seq),
            ) as cur:
                for r in await cur.fetchall():
                    change = Change(seq=r[5], kind=r[6], article=_article(r), held=bool(r[7]))
                    found[r[8]].append(change)
        return found

    async def max_seq(self) -> int:
        async with self.reader.execute("SELECT COALESCE(MAX(seq), 0) FROM changes") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def pending_releases(self) -> list[tuple[str, datetime, tuple[str, ...]]]:
        async with self.reader.execute(
            "SELECT id, release_ts, sections FROM articles WHERE release_pending = 1 "
            "ORDER BY release_ts, id"
        ) as cur:
            rows = await cur.fetchall()
        return [(r[0], _release_time(r[1]), tuple(json.loads(r[2]))) for r in rows]

    async def section_seqs(self) -> dict[str, int]:
        async with self.reader.execute("SELECT section, seq FROM section_changes") as cur:
            rows = await cur.fetchall()
        return {r[0]: int(r[1]) for r in rows}

    # -- published feeds and scale-out ------------------------------------------
    async def service_key(self, name: str, size: int) -> bytes:
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO service_keys (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (name, secrets.token_bytes(size)),
            )
            async with db.execute("SELECT value FROM service_keys WHERE name = ?", (name,)) as cur:
                row = await cur.fetchone()
        assert row is not None
        return bytes(row[0])

    async def save_feeds(self, documents: Sequence[FeedDocument]) -> None:
        if not documents:
            return
        async with self._transaction() as db:
            # As on PostgreSQL: identical bytes keep the time they were first made, so
            # Last-Modified does not move when nothing changed.
            await db.executemany(
                "INSERT INTO feeds (section, name, body, generated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (section, name) DO UPDATE SET body = excluded.body, "
                "generated = excluded.generated WHERE feeds.body <> excluded.body",
                [(d.section, d.name, d.body, format_time(d.generated)) for d in documents],
            )

    async def load_feeds(self, section: str | None = None) -> list[FeedDocument]:
        sql = "SELECT section, name, body, generated FROM feeds"
        params: tuple[Any, ...] = ()
        if section is not None:
            sql += " WHERE section = ?"
            params = (section,)
        async with self.reader.execute(sql + " ORDER BY section, name", params) as cur:
            rows = await cur.fetchall()
        return [FeedDocument(r[0], r[1], bytes(r[2]), parse_time(r[3])) for r in rows]

    async def subscribe_feeds(self, callback: Callable[[str], None]) -> None:
        # One SQLite file serves one process: nobody else to hear from.
        return None

    async def try_lead(self) -> bool:
        return True

    async def resign(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {"degraded": False}


def _release_time(ts: float) -> datetime:
    """A stored release instant; one past what datetime holds reads as its latest value, so
    one record can never stop the releases of all the others (the scheduler names it)."""
    try:
        return datetime.fromtimestamp(ts, UTC)
    except (OverflowError, ValueError, OSError):
        return datetime.max.replace(tzinfo=UTC)
