"""How the PostgreSQL store reaches its schema: the URL, names per schema, errors, migrating.

No tables are read or written here apart from `schema_migrations`; the store and its mixins
own the rest. Benchmarks and tests use `with_schema` and `drop_schema` for private schemas.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from syndicate.core.errors import StoreError
from syndicate.store.migrations import POSTGRES as MIGRATIONS
from syndicate.store.pg_sessions import DB_ERRORS

log = logging.getLogger("syndicate.store.postgres")  # operators' log filters name the store

FEEDS_CHANNEL = "syndicate_feeds"  # the prefix: each schema has its own channel
_SEARCH_PATH_OPTION = re.compile(r"\s*-c\s*search_path\s*=\s*([^\s,]+)\s*")


def split_url(database_url: str) -> tuple[str, str | None]:
    """The DSN asyncpg should see, and the schema named by `?schema=` or `?options=`."""
    parts = urlsplit(database_url)
    schema: str | None = None
    kept: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        match = _SEARCH_PATH_OPTION.fullmatch(value) if key == "options" else None
        if key == "schema" and value:
            schema = value
        elif match is not None:
            schema = match.group(1).strip('"')
        else:
            kept.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(kept))), schema


def with_schema(database_url: str, schema: str) -> str:
    """`database_url` naming `schema` (`?schema=`), replacing any schema it named."""
    dsn, _ = split_url(database_url)
    parts = urlsplit(dsn)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("schema", schema)]
    return urlunsplit(parts._replace(query=urlencode(query)))


async def drop_schema(database_url: str) -> None:
    """Drop the schema `database_url` names, and everything in it (benchmarks, tests)."""
    dsn, schema = split_url(database_url)
    if not schema:
        raise StoreError("store: no schema named in the URL; refusing to drop anything")
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")
        finally:
            await conn.close()
    except DB_ERRORS as exc:
        raise StoreError(f"store: cannot drop schema {schema}: {exc}") from exc


def unavailable(exc: BaseException) -> StoreError:
    """The one StoreError a driver failure becomes: the driver's text goes to the log only.

    Clients see a fixed message (no SQL, no server names, no values they sent); operators find
    the cause in the log line written here.
    """
    log.warning("store: PostgreSQL unavailable: %s: %s", type(exc).__name__, exc)
    return StoreError("store: database unavailable")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lock_key(purpose: str, schema: str) -> int:
    """A signed 64-bit advisory-lock key, one per purpose and schema.

    Advisory locks are per database, not per schema: deployments (or test runs) sharing a
    database in different schemas must not contend for each other's locks.
    """
    digest = hashlib.blake2b(f"syndicate:{purpose}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def feeds_channel(schema: str) -> str:
    """The NOTIFY channel of one schema's saved feeds.

    Channels, like advisory locks, are per database: deployments or tests sharing a database
    in different schemas must not wake each other. A digest keeps the name under PostgreSQL's
    63-byte identifier limit whatever the schema is called.
    """
    return f"{FEEDS_CHANNEL}_{hashlib.blake2b(schema.encode(), digest_size=8).hexdigest()}"


async def migrate(conn: Any, schema: str) -> None:
    """Create `schema` if need be and apply the migrations it has not recorded, in order."""
    # Processes starting together queue here; each then sees what the first one applied.
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key("migrate", schema))
        exists = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema
        )
        if not exists:
            await conn.execute(f"CREATE SCHEMA {quote_ident(schema)}")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, applied TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
        for number, script in enumerate(MIGRATIONS, start=1):
            if number > done:
                await conn.execute(script)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", number)
