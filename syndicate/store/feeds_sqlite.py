"""Published feeds and the service's own keys on SQLite, where one process is the only one.

Scale-out has nothing to do here: no other process to notify, no timer to contend for.
Nothing here touches articles or the change log.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from syndicate.core.model import FeedDocument, format_time, parse_time
from syndicate.store.base_sqlite import SQLiteMixin
from syndicate.store.feed_bodies import GZIP, packed, unpacked


class SQLiteFeeds(SQLiteMixin):
    """Mixed into `SQLiteStore`; uses its `reader` and `_transaction`."""

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

    async def save_feeds(self, documents: Sequence[FeedDocument]) -> list[FeedDocument]:
        # As on PostgreSQL: identical bytes keep the time they were first made, so
        # Last-Modified does not move when nothing changed (compared gzipped: see
        # feed_bodies). One process renders into one SQLite file: no other render to lose to.
        await self._write_many(
            "INSERT INTO feeds (section, name, body, encoding, generated) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (section, name) DO UPDATE SET body = excluded.body, "
            "encoding = excluded.encoding, generated = excluded.generated "
            "WHERE feeds.body <> excluded.body OR feeds.encoding <> excluded.encoding",
            [(d.section, d.name, packed(d), GZIP, format_time(d.generated)) for d in documents],
        )
        return []

    async def load_feeds(self, section: str | None = None) -> list[FeedDocument]:
        where, params = ("", ()) if section is None else (" WHERE section = ?", (section,))
        rows = await self._fetch_all(
            f"SELECT section, name, body, encoding, generated FROM feeds{where} "
            "ORDER BY section, name",
            params,
        )
        docs = []
        for section_slug, name, data, encoding, generated in rows:
            body, gz = unpacked(bytes(data), encoding)
            docs.append(FeedDocument(section_slug, name, body, parse_time(generated), gzip=gz))
        return docs

    async def subscribe_feeds(self, callback: Callable[[str], None]) -> None:
        # One SQLite file serves one process: nobody else to hear from.
        return None

    async def try_lead(self) -> bool:
        return True

    async def resign(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {"degraded": False}
