"""The tokens table on SQLite: create, find, list, revoke, rotate, and batched last use."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from syndicate.core.errors import NotFound
from syndicate.core.model import Token, format_time, parse_time
from syndicate.store.base_sqlite import SQLiteMixin
from syndicate.store.tokens_common import TokenGrants

_COLUMNS = "id, name, role, sections, embargoed, token_hash, created, expires, last_used"
_LIVE = f"SELECT {_COLUMNS} FROM tokens WHERE revoked IS NULL ORDER BY name, id"


def _token(row: Sequence[Any]) -> Token:
    return Token(
        row[0],
        row[1],
        row[2],
        tuple(json.loads(row[3])),
        bool(row[4]),
        row[5],
        created=parse_time(row[6]) if row[6] else None,
        expires=parse_time(row[7]) if row[7] else None,
        last_used=parse_time(row[8]) if row[8] else None,
    )


class SQLiteTokens(SQLiteMixin, TokenGrants):
    """Mixed into `SQLiteStore`; uses its `reader` and `_transaction`."""

    async def _insert_token(self, token: Token) -> Token:
        assert token.created is not None
        async with self._transaction() as db:
            cur = await db.execute(
                "INSERT INTO tokens (name, role, sections, embargoed, token_hash, created, "
                "expires) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    token.name,
                    token.role,
                    json.dumps(list(token.sections)),
                    1 if token.embargoed else 0,
                    token.token_hash,
                    format_time(token.created),
                    format_time(token.expires) if token.expires else None,
                ),
            )
            token_id = cur.lastrowid
            await cur.close()
        assert token_id is not None
        return dataclasses.replace(token, id=token_id)

    async def find_token(self, token_hash: str) -> Token | None:
        async with self.reader.execute(
            f"SELECT {_COLUMNS} FROM tokens WHERE token_hash = ? AND revoked IS NULL",
            (token_hash,),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else _token(row)

    async def list_tokens(self) -> list[Token]:
        return [_token(r) for r in await self._fetch_all(_LIVE)]

    async def revoke_tokens(self, name: str, *, now: datetime) -> int:
        return await self._update(
            f"no token named {name!r}",
            "UPDATE tokens SET revoked = ? WHERE name = ? AND revoked IS NULL",
            (format_time(now), name),
        )

    async def rotate_token(self, name: str, token_hash: str, *, now: datetime) -> Token:
        async with self._transaction() as db:
            async with db.execute(
                "SELECT id FROM tokens WHERE name = ? AND revoked IS NULL", (name,)
            ) as cur:
                ids = [r[0] for r in await cur.fetchall()]
            check_one(name, len(ids))
            await db.execute("UPDATE tokens SET token_hash = ? WHERE id = ?", (token_hash, ids[0]))
            async with db.execute(f"SELECT {_COLUMNS} FROM tokens WHERE id = ?", (ids[0],)) as cur:
                row = await cur.fetchone()
        assert row is not None
        return _token(row)

    async def touch_tokens(self, used: Mapping[int, datetime]) -> None:
        await self._write_many(
            "UPDATE tokens SET last_used = ? WHERE id = ?",
            [(format_time(when), token_id) for token_id, when in sorted(used.items())],
        )


def check_one(name: str, found: int) -> None:
    """Rotation needs exactly one live token of that name (names are who a token is for)."""
    if found == 0:
        raise NotFound(f"no token named {name!r}")
    if found > 1:
        raise NotFound(f"{found} tokens are named {name!r}: revoke them and create one")
