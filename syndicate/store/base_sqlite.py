"""What every SQLite mixin (tokens, push, feeds, the change log…) may use of `SQLiteStore`.

`SQLiteStore` provides the connections; a mixin inherits these declarations so that it
type-checks on its own, and the helpers that several mixins need.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import aiosqlite

from syndicate.core.errors import NotFound


class Fetched:
    """One query's rows, fetched whole: used as `async with reader.execute(...) as cur`."""

    def __init__(self, conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> None:
        self._conn, self._sql, self._params = conn, sql, params
        self._rows: list[Any] = []

    async def __aenter__(self) -> Fetched:
        self._rows = list(await self._conn.execute_fetchall(self._sql, self._params))
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def fetchall(self) -> list[Any]:
        return self._rows

    async def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None


class Reader:
    """The shared reader connection, each query executed and fetched in one step.

    A statement that is open on a connection holds that connection's snapshot: with the
    execute and the fetch as two steps, another coroutine's query run between them saw the
    database as it was before the latest commits (a token just created was "not valid", a
    save not yet visible to the next read). Fetched whole, every query sees every commit made
    before it started.
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Fetched:
        return Fetched(self._conn, sql, params)


class SQLiteMixin:
    """The connection helpers of `SQLiteStore`, declared for its mixins."""

    @property
    def reader(self) -> Reader:
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
