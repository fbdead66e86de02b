"""The tokens table on PostgreSQL: create, find, list, revoke, rotate, and batched last use."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from syndicate.core.model import Token
from syndicate.store.base_postgres import PostgresMixin
from syndicate.store.tokens_common import TokenGrants
from syndicate.store.tokens_sqlite import check_one

_COLUMNS = "id, name, role, sections, embargoed, token_hash, created, expires, last_used"


def _token(r: Any) -> Token:
    # The hash goes back too: the web layer compares it in constant time, and an empty
    # one would turn every token on PostgreSQL away.
    return Token(
        int(r["id"]),
        r["name"],
        r["role"],
        tuple(r["sections"]),
        bool(r["embargoed"]),
        r["token_hash"],
        created=r["created"],
        expires=r["expires"],
        last_used=r["last_used"],
    )


class PostgresTokens(PostgresMixin, TokenGrants):
    """Mixed into `PostgresStore`; uses its `_fetch`."""

    async def _insert_token(self, token: Token) -> Token:
        rows = await self._fetch(
            "INSERT INTO tokens (name, role, sections, embargoed, token_hash, created, expires) "
            f"VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COLUMNS}",
            token.name,
            token.role,
            list(token.sections),
            token.embargoed,
            token.token_hash,
            token.created,
            token.expires,
        )
        return _token(rows[0])

    async def find_token(self, token_hash: str) -> Token | None:
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM tokens WHERE token_hash = $1 AND revoked IS NULL",
            token_hash,
        )
        return _token(rows[0]) if rows else None

    async def list_tokens(self) -> list[Token]:
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM tokens WHERE revoked IS NULL ORDER BY name, id"
        )
        return [_token(r) for r in rows]

    async def revoke_tokens(self, name: str, *, now: datetime) -> int:
        return await self._update(
            f"no token named {name!r}",
            "UPDATE tokens SET revoked = $1 WHERE name = $2 AND revoked IS NULL RETURNING id",
            now,
            name,
        )

    async def rotate_token(self, name: str, token_hash: str, *, now: datetime) -> Token:
        # One statement: the name must match exactly one live token, else nothing changes.
        rows = await self._fetch(
            "WITH live AS (SELECT id FROM tokens WHERE name = $1 AND revoked IS NULL), "
            "one AS (SELECT id FROM live WHERE (SELECT COUNT(*) FROM live) = 1) "
            f"UPDATE tokens t SET token_hash = $2 FROM one WHERE t.id = one.id "
            f"RETURNING {', '.join('t.' + c.strip() for c in _COLUMNS.split(','))}",
            name,
            token_hash,
        )
        if not rows:
            live = await self._fetch(
                "SELECT COUNT(*) AS n FROM tokens WHERE name = $1 AND revoked IS NULL", name
            )
            check_one(name, int(live[0]["n"]))
        return _token(rows[0])

    async def touch_tokens(self, used: Mapping[int, datetime]) -> None:
        if not used:
            return
        ids, times = zip(*sorted(used.items()), strict=True)
        await self._fetch(
            "UPDATE tokens t SET last_used = u.used FROM "
            "unnest($1::bigint[], $2::timestamptz[]) AS u(id, used) WHERE t.id = u.id",
            list(ids),
            list(times),
        )
