"""Storage: one `Store` protocol, the write rules once (`plan.py`), a store class per database
with its concerns mixed in from their own modules. Only this package imports drivers."""

from __future__ import annotations

from syndicate.store.base import Store

__all__ = ["Store", "open_store"]


def open_store(database_url: str) -> Store:
    """A store for `sqlite:///path` or `postgresql://...` (not yet opened: call `open()`)."""
    if database_url.startswith("sqlite:"):
        from syndicate.store.sqlite import SQLiteStore

        return SQLiteStore(database_url)
    if database_url.startswith(("postgresql:", "postgres:")):
        from syndicate.store.postgres import PostgresStore  # type: ignore[import-not-found,unused-ignore]

        store: Store = PostgresStore(database_url)
        return store
    from syndicate.core.errors import ConfigError

    raise ConfigError(f"store: unsupported database URL scheme in {database_url.split(':')[0]!r}")
