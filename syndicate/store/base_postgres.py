"""What every PostgreSQL mixin (tokens, push, feeds, the change log…) may use of `PostgresStore`.

`PostgresStore` provides the pool; a mixin inherits these declarations so that it type-checks
on its own, and the helpers that several mixins need.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from syndicate.core.errors import NotFound


class PostgresMixin:
    """The connection helpers of `PostgresStore`, declared for its mixins."""

    @property
    def pool(self) -> Any:
        raise NotImplementedError

    def _transaction(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        raise NotImplementedError

    async def _update(self, missing: str, sql: str, *args: Any) -> int:
        """Run one `UPDATE … RETURNING`: how many rows it changed, `NotFound(missing)` if none."""
        rows = await self._fetch(sql, *args)
        if not rows:
            raise NotFound(missing)
        return len(rows)
