"""Push destinations and their delivery state on SQLite (the outbox is the change log)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from syndicate.core.model import Change, Destination, format_time, parse_time
from syndicate.store.base_sqlite import SQLiteMixin
from syndicate.store.changes_sqlite import ARTICLE_COLUMNS, change

_COLUMNS = (
    "id, token_id, url, format, sections, secret, created, position, delivered, failed, dead, "
    "last_error, last_delivered"
)
_LIVE = f"SELECT {_COLUMNS} FROM push_destinations WHERE removed IS NULL ORDER BY id"


def _destination(r: Sequence[Any]) -> Destination:
    return Destination(
        id=r[0],
        token_id=r[1],
        url=r[2],
        format=r[3],
        sections=tuple(json.loads(r[4])),
        secret=r[5],
        created=parse_time(r[6]),
        position=r[7],
        delivered=r[8],
        failed=r[9],
        dead=r[10],
        last_error=r[11],
        last_delivered=parse_time(r[12]) if r[12] else None,
    )


class SQLitePush(SQLiteMixin):
    """Mixed into `SQLiteStore`; uses its `reader` and `_transaction`."""

    async def add_destination(self, d: Destination) -> Destination:
        assert d.created is not None
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO push_destinations (id, token_id, url, format, sections, secret, "
                "created, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (d.id, d.token_id, d.url, d.format, json.dumps(list(d.sections)), d.secret,
                 format_time(d.created), d.position),
            )  # fmt: skip
        return d

    async def destinations(self) -> list[Destination]:
        return [_destination(r) for r in await self._fetch_all(_LIVE)]

    async def remove_destination(self, destination_id: str, *, now: datetime) -> None:
        await self._update(
            f"no push destination {destination_id!r}",
            "UPDATE push_destinations SET removed = ? WHERE id = ? AND removed IS NULL",
            (format_time(now), destination_id),
        )

    async def advance_destination(
        self, destination_id: str, position: int, *, delivered: int, when: datetime | None
    ) -> None:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE push_destinations SET position = MAX(position, ?), "
                "delivered = delivered + ?, last_delivered = COALESCE(?, last_delivered) "
                "WHERE id = ?",
                (position, delivered, format_time(when) if when else None, destination_id),
            )

    async def push_failed(self, destination_id: str, error: str) -> None:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE push_destinations SET failed = failed + 1, last_error = ? WHERE id = ?",
                (error, destination_id),
            )

    async def park_dead(
        self, destination_id: str, change: Change, error: str, *, now: datetime
    ) -> None:
        async with self._transaction() as db:
            await db.execute(
                "INSERT OR REPLACE INTO push_dead (destination, seq, article_id, version, error, "
                "parked) VALUES (?, ?, ?, ?, ?, ?)",
                (destination_id, change.seq, change.article.id, change.article.version, error,
                 format_time(now)),
            )  # fmt: skip
            await db.execute(
                "UPDATE push_destinations SET dead = dead + 1, last_error = ?, "
                "position = MAX(position, ?) WHERE id = ?",
                (error, change.seq, destination_id),
            )

    async def rewind_destination(self, destination_id: str, position: int) -> None:
        await self._update(
            f"no push destination {destination_id!r}",
            "UPDATE push_destinations SET position = ? WHERE id = ? AND removed IS NULL",
            (position, destination_id),
        )

    async def changes_after(
        self, after_seq: int, sections: Sequence[str], limit: int
    ) -> list[Change]:
        marks = ",".join("?" * len(sections))
        async with self.reader.execute(
            f"SELECT {ARTICLE_COLUMNS}, c.seq, c.kind, c.held FROM changes c "
            "WHERE c.seq IN (SELECT DISTINCT seq FROM "
            f"change_sections WHERE section IN ({marks}) AND seq > ?) ORDER BY c.seq LIMIT ?",
            (*sections, after_seq, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [change(r) for r in rows]
