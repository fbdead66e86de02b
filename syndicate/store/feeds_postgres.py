"""Published feeds and the service's own keys on PostgreSQL, and what other processes hear of them.

Saved feeds are announced with NOTIFY; the listener and the timer's leadership live in
`pg_sessions.py`, opened by the store. Nothing here touches articles or the change log.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from syndicate.core.errors import StoreError
from syndicate.core.model import FeedDocument
from syndicate.store.base_postgres import PostgresMixin
from syndicate.store.feed_bodies import GZIP, packed, unpacked
from syndicate.store.pg_sessions import FeedListener, Leadership


class PostgresFeeds(PostgresMixin):
    """Mixed into `PostgresStore`; uses its `_transaction`, `_fetch` and open sessions."""

    _channel: str
    _listener: FeedListener | None
    _leadership: Leadership | None

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

    async def save_feeds(self, documents: Sequence[FeedDocument]) -> list[FeedDocument]:
        if not documents:
            return []
        async with self._transaction() as conn:
            # Two processes can regenerate a section at once (the timer on one, an editor's
            # button on another) and save in the opposite order to the one they read in: the
            # render that read the newer store state (`seq`) wins, so an older one landing
            # last cannot put a stale feed back; between renders of one state, the later one
            # (a release due by the clock). Identical bytes keep the time they were first
            # made, so Last-Modified does not move when nothing changed.
            await conn.executemany(
                "INSERT INTO feeds (section, name, body, encoding, generated, seq) "
                "VALUES ($1, $2, $3, $4, $5, $6) "
                "ON CONFLICT (section, name) DO UPDATE SET body = excluded.body, "
                "encoding = excluded.encoding, generated = excluded.generated, seq = excluded.seq "
                "WHERE (feeds.body <> excluded.body OR feeds.encoding <> excluded.encoding) "
                "AND (feeds.seq, feeds.generated) < (excluded.seq, excluded.generated)",
                [(d.section, d.name, packed(d), GZIP, d.generated, d.seq) for d in documents],
            )
            # What a newer render kept: read back only those rows, not every saved body.
            rows = await conn.fetch(
                "SELECT f.section, f.name, f.body, f.encoding, f.generated, f.seq FROM feeds f "
                "JOIN unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[]) "
                "AS g(section, name, generated, seq) "
                "ON f.section = g.section AND f.name = g.name "
                "WHERE (f.seq, f.generated) > (g.seq, g.generated)",
                [d.section for d in documents],
                [d.name for d in documents],
                [d.generated for d in documents],
                [d.seq for d in documents],
            )
            # Delivered on commit, and only then: listeners never load half-saved feeds. Sent
            # even when a save lost to a newer one, so the loser's process reloads the winner.
            for section in sorted({d.section for d in documents}):
                await conn.execute("SELECT pg_notify($1, $2)", self._channel, section)
        given = {(d.section, d.name): d.body for d in documents}
        # The same bytes from a newer render are no loss: ours are what it made.
        return [doc for doc in map(_document, rows) if doc.body != given[doc.section, doc.name]]

    async def load_feeds(self, section: str | None = None) -> list[FeedDocument]:
        sql = "SELECT section, name, body, encoding, generated, seq FROM feeds"
        if section is None:
            rows = await self._fetch(sql + " ORDER BY section, name")
        else:
            rows = await self._fetch(sql + " WHERE section = $1 ORDER BY name", section)
        return [_document(r) for r in rows]

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

    def health(self) -> dict[str, Any]:
        """`degraded` when this process has not heard from PostgreSQL for a while."""
        if self._listener is None:
            return {"degraded": False}
        listener = self._listener.health()
        return {"degraded": listener["degraded"], "feed_listener": listener}


def _document(row: Any) -> FeedDocument:
    body, gz = unpacked(bytes(row["body"]), row["encoding"])
    return FeedDocument(row["section"], row["name"], body, row["generated"], int(row["seq"]), gz)
