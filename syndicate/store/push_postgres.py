"""Push destinations and their delivery state on PostgreSQL (the outbox is the change log)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from syndicate.core.model import Change, Destination
from syndicate.store.base_postgres import PostgresMixin
from syndicate.store.changes_postgres import ARTICLE_COLUMNS, change

_COLUMNS = (
    "id, token_id, url, format, sections, secret, created, position, delivered, failed, dead, "
    "last_error, last_delivered"
)


def _destination(r: Any) -> Destination:
    return Destination(
        id=r["id"],
        token_id=int(r["token_id"]),
        url=r["url"],
        format=r["format"],
        sections=tuple(r["sections"]),
        secret=r["secret"],
        created=r["created"],
        position=int(r["position"]),
        delivered=int(r["delivered"]),
        failed=int(r["failed"]),
        dead=int(r["dead"]),
        last_error=r["last_error"],
        last_delivered=r["last_delivered"],
    )


class PostgresPush(PostgresMixin):
    """Mixed into `PostgresStore`; uses its `_fetch`."""

    async def add_destination(self, d: Destination) -> Destination:
        await self._fetch(
            "INSERT INTO push_destinations (id, token_id, url, format, sections, secret, "
            "created, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            d.id, d.token_id, d.url, d.format, list(d.sections), d.secret, d.created, d.position,
        )  # fmt: skip
        return d

    async def destinations(self) -> list[Destination]:
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM push_destinations WHERE removed IS NULL ORDER BY id"
        )
        return [_destination(r) for r in rows]

    async def remove_destination(self, destination_id: str, *, now: datetime) -> None:
        await self._update(
            f"no push destination {destination_id!r}",
            "UPDATE push_destinations SET removed = $1 WHERE id = $2 AND removed IS NULL "
            "RETURNING id",
            now,
            destination_id,
        )

    async def advance_destination(
        self, destination_id: str, position: int, *, delivered: int, when: datetime | None
    ) -> None:
        await self._fetch(
            "UPDATE push_destinations SET position = GREATEST(position, $1), "
            "delivered = delivered + $2, last_delivered = COALESCE($3, last_delivered) "
            "WHERE id = $4",
            position, delivered, when, destination_id,
        )  # fmt: skip

    async def push_failed(self, destination_id: str, error: str) -> None:
        await self._fetch(
            "UPDATE push_destinations SET failed = failed + 1, last_error = $1 WHERE id = $2",
            error,
            destination_id,
        )

    async def park_dead(
        self, destination_id: str, change: Change, error: str, *, now: datetime
    ) -> None:
        await self._fetch(
            "WITH parked AS (INSERT INTO push_dead (destination, seq, article_id, version, error, "
            "parked) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (destination, seq) DO UPDATE "
            "SET error = excluded.error, parked = excluded.parked RETURNING 1) "
            "UPDATE push_destinations SET dead = dead + 1, last_error = $5, "
            "position = GREATEST(position, $2) WHERE id = $1",
            destination_id, change.seq, change.article.id, change.article.version, error, now,
        )  # fmt: skip

    async def rewind_destination(self, destination_id: str, position: int) -> None:
        await self._update(
            f"no push destination {destination_id!r}",
            "UPDATE push_destinations SET position = $1 WHERE id = $2 AND removed IS NULL "
            "RETURNING id",
            position,
            destination_id,
        )

    async def changes_after(
        self, after_seq: int, sections: Sequence[str], limit: int
    ) -> list[Change]:
        rows = await self._fetch(
            f"SELECT {ARTICLE_COLUMNS}, c.seq, c.kind, c.held FROM changes c "
            "WHERE c.seq IN (SELECT DISTINCT seq FROM "
            "change_sections WHERE section = ANY($1::text[]) AND seq > $2) ORDER BY c.seq LIMIT $3",
            list(sections),
            after_seq,
            limit,
        )
        return [change(r) for r in rows]
