"""Store fixtures for every backend: SQLite on a temporary file, PostgreSQL in a private schema.

PostgreSQL runs when `SYNDICATE_TEST_DATABASE_URL` is set and is skipped with the reason
otherwise; with `SYNDICATE_REQUIRE_PG=1` a missing or unreachable server fails the test. Each
test gets a fresh schema, dropped afterwards, so runs sharing one server never meet.
Loaded as a pytest plugin by `tests/conftest.py`.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn

import asyncpg
import pytest

from syndicate.core.model import Article
from syndicate.store.base import Store
from syndicate.store.postgres import PostgresStore, with_schema
from syndicate.store.sqlite import SQLiteStore

PG_URL_ENV = "SYNDICATE_TEST_DATABASE_URL"
REQUIRE_PG_ENV = "SYNDICATE_REQUIRE_PG"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

StoreFactory = Callable[[], Store]  # a new, unopened store on this test's database
PgFactory = Callable[[], PostgresStore]  # the same, PostgreSQL only


def _pg_unavailable(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_PG_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_PG_ENV}=1)", pytrace=False)
    pytest.skip(reason)


def pg_server_url() -> str:
    """The test server's URL, or skip/fail when none is configured."""
    url = os.environ.get(PG_URL_ENV, "")
    if not url:
        _pg_unavailable(f"PostgreSQL tests need {PG_URL_ENV}")
    return url


async def create_pg_schema() -> tuple[str, str]:
    """(server URL, fresh schema name), or skip/fail when there is no server to use."""
    url = pg_server_url()
    schema = f"syndicate_test_{uuid.uuid4().hex[:16]}"
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        _pg_unavailable(f"PostgreSQL at {PG_URL_ENV} is unreachable: {exc}")
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    return url, schema


async def drop_pg_schema(url: str, schema: str) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@asynccontextmanager
async def sqlite_store(path: Path) -> AsyncIterator[SQLiteStore]:
    """An opened SQLite store on the file `path`, closed on exit (for tests of SQLite only)."""
    store = SQLiteStore(f"sqlite:///{path}")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def read_stored(path: Path, *ids: str) -> dict[str, Article | None]:
    """The articles a command stored in the SQLite file `path`, read from outside its loop."""

    async def read() -> dict[str, Article | None]:
        async with sqlite_store(path) as store:
            return {i: await store.get(i) for i in ids}

    return asyncio.run(read())


@asynccontextmanager
async def _backend(backend: str, tmp_path: Path) -> AsyncIterator[tuple[StoreFactory, Any]]:
    made: list[Store] = []
    location: Any
    if backend == "sqlite":
        location = tmp_path / "store.db"

        def build() -> Store:
            return SQLiteStore(f"sqlite:///{location}")
    else:
        location = await create_pg_schema()
        url, schema = location

        def build() -> Store:
            return PostgresStore(url, schema=schema)

    def make() -> Store:
        store = build()
        made.append(store)
        return store

    try:
        yield make, location
    finally:
        for store in made:
            await store.close()
        if backend == "postgres":
            await drop_pg_schema(*location)


@pytest.fixture(params=BACKENDS)
async def store_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StoreFactory]:
    """Makes stores (closed at teardown) that share one fresh database of each backend."""
    async with _backend(request.param, tmp_path) as (make, _):
        yield make


@pytest.fixture
async def store(store_factory: StoreFactory) -> Store:
    """An opened, empty store of each backend."""
    opened = store_factory()
    await opened.open()
    return opened


def _as_postgres(store: Store) -> PostgresStore:
    assert isinstance(store, PostgresStore)
    return store


@pytest.fixture
async def pg_factory(tmp_path: Path) -> AsyncIterator[PgFactory]:
    """Makes PostgresStores (closed at teardown) that share one fresh schema."""
    async with _backend("postgres", tmp_path) as (make, _):
        yield lambda: _as_postgres(make())


@pytest.fixture
async def pg_location(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """(server URL, fresh schema name) for tests that start other processes."""
    url, schema = await create_pg_schema()
    try:
        yield url, schema
    finally:
        await drop_pg_schema(url, schema)


@pytest.fixture
async def pg_url(pg_location: tuple[str, str]) -> str:
    """The test server's URL naming a fresh schema (`?schema=`), for apps and processes."""
    return with_schema(*pg_location)
