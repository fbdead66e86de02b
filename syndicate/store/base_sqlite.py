"""What every SQLite mixin (tokens, push, feeds, the change log…) may use of `SQLiteStore`.

`SQLiteStore` provides the connections; a mixin inherits these declarations so that it
type-checks on its own, and the helpers that several mixins need.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import aiosqlite

from syndicate.errors import NotFound


class SQLiteMixin:
    """The connection helpers of `SQLiteStore`, declared for its mixins."""

    @property
    def reader(self) -> aiosqlite.Connection:
        raise NotImplementedError

    @property
    def writer(self) -> aiosqlite.Connection:
        raise NotImplementedError

    def _transaction(self) -> contextlib.AbstractAsyncContextManager[aiosqlite.Connection]:
        raise NotImplementedError

    async def _fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row of one query on the reader."""
        async with self.reader.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def _write_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """`sql` once for each of `rows`, in one transaction (none at all without rows)."""
        if not rows:
            return
        async with self._transaction() as db:
            await db.executemany(sql, rows)

    async def _update(self, missing: str, sql: str, params: Sequence[Any]) -> int:
        """Run one UPDATE in its own transaction: how many rows it changed, `NotFound(missing)`
        if none."""
        async with self._transaction() as db:
            cur = await db.execute(sql, params)
            count = cur.rowcount
            await cur.close()
        if not count:
            raise NotFound(missing)
        return count
