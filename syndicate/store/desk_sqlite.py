"""The editors' desk on SQLite: sessions, the article list (keyset pages) and headline search."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict, Unpack

from syndicate.core.errors import BadRequest
from syndicate.core.model import (
    Article,
    ArticleState,
    DeskSession,
    Token,
    format_time,
    parse_time,
)
from syndicate.store.base_sqlite import SQLiteMixin
from syndicate.store.changes_sqlite import ARTICLE_COLUMNS, article
from syndicate.store.words import TOP
from syndicate.store.words import words as words_of

_TOKEN_COLUMNS = "t.id, t.name, t.role, t.sections, t.embargoed, t.token_hash, t.created, t.expires"
# Changes read per step while the headline words catch up with the change log.
INDEX_BATCH = 2000


def state_filter(
    state: ArticleState | None, release: str, marker: str, pending: str = "a.release_pending = 1"
) -> tuple[str, bool]:
    """The SQL condition of a status filter (shared with PostgreSQL) and whether it compares
    `release` with now (`marker`). `pending` is spelled as each database's partial index is."""
    if state == "withdrawn":
        return "a.status = 'withdrawn'", False
    if state == "published":
        return f"a.status = 'published' AND {release} <= {marker}", True
    if state == "held":
        # `release_pending` first: its partial index holds only the held few.
        return f"{pending} AND a.status = 'published' AND {release} > {marker}", True
    return "1 = 1", False


class NewDeskSession(TypedDict):
    """`Store.add_desk_session`'s keyword arguments, declared once for both backends."""

    session_hash: str
    token_id: int
    csrf: str
    now: datetime
    idle_since: datetime  # sessions unused since before this are deleted on the way


class ArticleQuery(TypedDict):
    """`Store.list_articles`' keyword arguments, declared once for both backends."""

    section: str | None
    state: ArticleState | None
    words: Sequence[str]
    limit: int
    after: tuple[str, str] | None  # (sort key, id) of the previous page's last article
    now: datetime


class SQLiteDesk(SQLiteMixin):
    """Mixed into `SQLiteStore`; uses its `reader` and `_transaction`."""

    # -- sessions ---------------------------------------------------------------
    async def add_desk_session(self, **session: Unpack[NewDeskSession]) -> None:
        now = session["now"]
        who = (session["session_hash"], session["token_id"], session["csrf"])
        async with self._transaction() as db:
            await db.execute(
                "DELETE FROM desk_sessions WHERE last_seen < ?",
                (session["idle_since"].timestamp(),),
            )
            await db.execute(
                "INSERT INTO desk_sessions (session_hash, token_id, csrf, created, last_seen) "
                "VALUES (?, ?, ?, ?, ?)",
                (*who, format_time(now), now.timestamp()),
            )

    async def find_desk_session(
        self, session_hash: str, *, idle_since: datetime
    ) -> DeskSession | None:
        async with self.reader.execute(
            f"SELECT {_TOKEN_COLUMNS}, s.csrf, s.created, s.last_seen FROM desk_sessions s "
            "JOIN tokens t ON t.id = s.token_id "
            "WHERE s.session_hash = ? AND s.last_seen >= ? AND t.revoked IS NULL",
            (session_hash, idle_since.timestamp()),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        token = Token(
            row[0], row[1], row[2], tuple(json.loads(row[3])), bool(row[4]), row[5],
            created=parse_time(row[6]) if row[6] else None,
            expires=parse_time(row[7]) if row[7] else None,
        )  # fmt: skip
        last_seen = datetime.fromtimestamp(row[10], UTC)
        return DeskSession(session_hash, token, row[8], parse_time(row[9]), last_seen)

    async def touch_desk_session(self, session_hash: str, *, now: datetime) -> None:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE desk_sessions SET last_seen = ? WHERE session_hash = ?",
                (now.timestamp(), session_hash),
            )

    async def end_desk_session(self, session_hash: str) -> None:
        async with self._transaction() as db:
            await db.execute("DELETE FROM desk_sessions WHERE session_hash = ?", (session_hash,))

    # -- the article list ---------------------------------------------------------
    async def list_articles(self, **query: Unpack[ArticleQuery]) -> list[tuple[Article, str]]:
        if query["words"]:
            await self._index_headlines()
        where, params = self._where(
            query["section"], query["state"], query["words"], query["after"], query["now"]
        )
        async with self.reader.execute(
            f"SELECT {ARTICLE_COLUMNS}, a.published_ts FROM articles a "
            f"JOIN changes c ON c.seq = a.seq WHERE {where} "
            "ORDER BY a.published_ts DESC, a.id LIMIT ?",
            (*params, query["limit"]),
        ) as cur:
            rows = await cur.fetchall()
        # The key is the stored float itself (repr round-trips exactly), so the next page
        # starts strictly after this row whatever the timestamp's precision.
        return [(article(r), repr(float(r[5]))) for r in rows]

    @staticmethod
    def _where(
        section: str | None,
        state: ArticleState | None,
        words: Sequence[str],
        after: tuple[str, str] | None,
        now: datetime,
    ) -> tuple[str, list[Any]]:
        conditions: list[str] = []
        params: list[Any] = []
        if section is not None:
            conditions.append(
                "EXISTS (SELECT 1 FROM article_sections s "
                "WHERE s.section = ? AND s.article_id = a.id)"
            )
            params.append(section)
        condition, timed = state_filter(state, "a.release_ts", "?")
        conditions.append(condition)
        if timed:
            params.append(now.timestamp())
        for word in words:
            conditions.append(
                "a.id IN (SELECT article_id FROM headline_words WHERE word >= ? AND word < ?)"
            )
            params += [word, word + TOP]
        if after is not None:
            try:
                published = float(after[0])
            except ValueError:
                raise BadRequest("the cursor is not one this service made") from None
            if not math.isfinite(published):
                raise BadRequest("the cursor is not one this service made")
            conditions.append("(a.published_ts < ? OR (a.published_ts = ? AND a.id > ?))")
            params += [published, published, after[1]]
        return " AND ".join(conditions), params

    async def _index_headlines(self) -> None:
        """Bring the headline words up to the newest change (each article's latest headline)."""
        async with self.reader.execute(
            "SELECT (SELECT seq FROM headline_index), (SELECT COALESCE(MAX(seq), 0) FROM changes)"
        ) as cur:
            row = await cur.fetchone()
        if row is None or row[0] >= row[1]:
            return
        async with self._transaction() as db:
            async with db.execute("SELECT seq FROM headline_index") as cur:
                done_row = await cur.fetchone()
            done = int(done_row[0]) if done_row else 0
            while True:
                async with db.execute(
                    "SELECT seq, article_id, json_extract(record, '$.headline') FROM changes "
                    "WHERE seq > ? ORDER BY seq LIMIT ?",
                    (done, INDEX_BATCH),
                ) as cur:
                    rows = list(await cur.fetchall())
                if not rows:
                    break
                latest = {r[1]: str(r[2] or "") for r in rows}
                await db.executemany(
                    "DELETE FROM headline_words WHERE article_id = ?", [(i,) for i in latest]
                )
                await db.executemany(
                    "INSERT OR IGNORE INTO headline_words (word, article_id) VALUES (?, ?)",
                    [(w, i) for i, headline in latest.items() for w in words_of(headline)],
                )
                done = int(rows[-1][0])
            await db.execute("UPDATE headline_index SET seq = ?", (done,))
