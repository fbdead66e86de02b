"""The editors' desk on PostgreSQL: sessions, the article list (keyset pages) and headline search.

Sessions live in the shared database, so a desk session works on every process of a scale-out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Unpack

from syndicate.core.errors import BadRequest
from syndicate.core.model import Article, DeskSession, Token
from syndicate.store.base_postgres import PostgresMixin
from syndicate.store.changes_postgres import ARTICLE_COLUMNS, article
from syndicate.store.desk_sqlite import INDEX_BATCH, ArticleQuery, NewDeskSession, state_filter
from syndicate.store.words import TOP
from syndicate.store.words import words as words_of

_TOKEN_COLUMNS = "t.id, t.name, t.role, t.sections, t.embargoed, t.token_hash, t.created, t.expires"
# One writer of the headline words at a time, across processes (a transaction-level lock).
_INDEX_LOCK = "SELECT pg_advisory_xact_lock(hashtext('syndicate:headlines:' || current_schema()))"


class PostgresDesk(PostgresMixin):
    """Mixed into `PostgresStore`; uses its `_fetch` and `_transaction`."""

    # -- sessions ---------------------------------------------------------------
    async def add_desk_session(self, **session: Unpack[NewDeskSession]) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "DELETE FROM desk_sessions WHERE last_seen < $1", session["idle_since"]
            )
            await conn.execute(
                "INSERT INTO desk_sessions (session_hash, token_id, csrf, created, last_seen) "
                "VALUES ($1, $2, $3, $4, $4)",
                session["session_hash"],
                session["token_id"],
                session["csrf"],
                session["now"],
            )

    async def find_desk_session(
        self, session_hash: str, *, idle_since: datetime
    ) -> DeskSession | None:
        rows = await self._fetch(
            f"SELECT {_TOKEN_COLUMNS}, s.csrf, s.created AS session_created, s.last_seen "
            "FROM desk_sessions s JOIN tokens t ON t.id = s.token_id "
            "WHERE s.session_hash = $1 AND s.last_seen >= $2 AND t.revoked IS NULL",
            session_hash,
            idle_since,
        )
        if not rows:
            return None
        r = rows[0]
        token = Token(
            int(r["id"]), r["name"], r["role"], tuple(r["sections"]), bool(r["embargoed"]),
            r["token_hash"], created=r["created"], expires=r["expires"],
        )  # fmt: skip
        return DeskSession(session_hash, token, r["csrf"], r["session_created"], r["last_seen"])

    async def touch_desk_session(self, session_hash: str, *, now: datetime) -> None:
        await self._fetch(
            "UPDATE desk_sessions SET last_seen = $1 WHERE session_hash = $2", now, session_hash
        )

    async def end_desk_session(self, session_hash: str) -> None:
        await self._fetch("DELETE FROM desk_sessions WHERE session_hash = $1", session_hash)

    # -- the article list ---------------------------------------------------------
    async def list_articles(self, **query: Unpack[ArticleQuery]) -> list[tuple[Article, str]]:
        section, state, words = query["section"], query["state"], query["words"]
        limit, after, now = query["limit"], query["after"], query["now"]
        if words:
            await self._index_headlines()
        conditions: list[str] = []
        params: list[Any] = []

        def param(value: Any) -> str:
            params.append(value)
            return f"${len(params)}"

        if section is not None:
            conditions.append(
                "EXISTS (SELECT 1 FROM article_sections s "
                f"WHERE s.section = {param(section)} AND s.article_id = a.id)"
            )
        marker = f"${len(params) + 1}"
        condition, timed = state_filter(state, "a.release_at", marker, "a.release_pending")
        conditions.append(condition)
        if timed:
            param(now)
        for word in words:
            conditions.append(
                "a.id IN (SELECT article_id FROM headline_words "
                f"WHERE word >= {param(word)} AND word < {param(word + TOP)})"
            )
        if after is not None:
            try:
                published = datetime.fromisoformat(after[0])
            except ValueError:
                raise BadRequest("the cursor is not one this service made") from None
            if published.tzinfo is None:
                raise BadRequest("the cursor is not one this service made")
            p, i = param(published), param(after[1])
            conditions.append(f"(a.published < {p} OR (a.published = {p} AND a.id > {i}))")
        rows = await self._fetch(
            f"SELECT {ARTICLE_COLUMNS}, a.published AS sort_key FROM articles a "
            f"JOIN changes c ON c.seq = a.seq WHERE {' AND '.join(conditions)} "
            f"ORDER BY a.published DESC, a.id LIMIT {param(limit)}",
            *params,
        )
        return [(article(r), r["sort_key"].isoformat()) for r in rows]

    async def _index_headlines(self) -> None:
        """Bring the headline words up to the newest change (each article's latest headline).

        Seqs become visible in order (the change log's own lock), so "after the last one
        indexed" misses nothing; processes take turns under a transaction-level lock.
        """
        rows = await self._fetch(
            "SELECT (SELECT seq FROM headline_index) AS done, "
            "(SELECT COALESCE(MAX(seq), 0) FROM changes) AS top"
        )
        if not rows or rows[0]["done"] >= rows[0]["top"]:
            return
        async with self._transaction() as conn:
            await conn.execute(_INDEX_LOCK)
            done = int(await conn.fetchval("SELECT seq FROM headline_index"))
            while True:
                batch = await conn.fetch(
                    "SELECT seq, article_id, record::json->>'headline' AS headline FROM changes "
                    "WHERE seq > $1 ORDER BY seq LIMIT $2",
                    done,
                    INDEX_BATCH,
                )
                if not batch:
                    break
                latest = {r["article_id"]: str(r["headline"] or "") for r in batch}
                await conn.execute(
                    "DELETE FROM headline_words WHERE article_id = ANY($1::text[])", list(latest)
                )
                pairs = [(w, i) for i, headline in latest.items() for w in words_of(headline)]
                if pairs:
                    await conn.execute(
                        "INSERT INTO headline_words (word, article_id) "
                        "SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
                        [p[0] for p in pairs],
                        [p[1] for p in pairs],
                    )
                done = int(batch[-1]["seq"])
            await conn.execute("UPDATE headline_index SET seq = $1", done)
