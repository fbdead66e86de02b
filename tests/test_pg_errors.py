"""One answer on both stores: driver failures are 503s without driver text, NUL ids are 404s.

The cut-connection test ends the app's pooled PostgreSQL sessions with `pg_terminate_backend`
while requests are in flight, and counts the answers: never a 500.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from syndicate.core.errors import StoreError
from syndicate.store.postgres import PostgresStore, unavailable, with_schema
from syndicate.web.keys import STORE
from tests.helpers.clients import running_app
from tests.helpers.settings import build_settings
from tests.helpers.tokens import editor_header

pg = pytest.mark.postgres


def _pool_pids(store: Any) -> list[int]:
    assert isinstance(store, PostgresStore)
    # The pool's own backends only: other tests share this server and must not be cut.
    holders = store.pool._holders  # asyncpg keeps no public list of its connections
    return [h._con.get_server_pid() for h in holders if h._con is not None]


def test_driver_errors_become_one_store_error_without_their_text() -> None:
    for exc in (
        asyncpg.InternalClientError("cannot switch to state 12"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.QueryCanceledError("canceling statement due to user request"),
    ):
        error = unavailable(exc)
        assert isinstance(error, StoreError) and error.status == 503
        assert str(exc) not in json.dumps(error.as_body())


@pg
async def test_a_nul_in_an_article_id_is_not_found_on_postgres(tmp_path: Path, pg_url: str) -> None:
    settings = build_settings(tmp_path, database_url=pg_url)
    async with running_app(settings) as client:
        headers = await editor_header(client)
        response = await client.get("/api/articles/a%00b", headers=headers)
        assert response.status == 404, await response.text()
        assert (await response.json())["errors"][0]["path"] == ""
        response = await client.delete("/api/articles/a%00b", headers=headers)
        assert response.status == 404, await response.text()


@pg
async def test_cut_pool_connections_answer_503_never_500(
    tmp_path: Path, pg_location: tuple[str, str]
) -> None:
    url, schema = pg_location
    settings = build_settings(tmp_path, database_url=with_schema(url, schema))
    statuses: dict[int, int] = {}
    bad_bodies: list[str] = []
    async with running_app(settings) as client:
        headers = await editor_header(client)
        store = client.app[STORE]
        admin = await asyncpg.connect(url)
        stop = asyncio.Event()

        async def ask() -> None:
            while not stop.is_set():
                response = await client.get("/api/articles/nope", headers=headers)
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status == 503:
                    text = await response.text()
                    body = json.loads(text)
                    if (
                        response.headers.get("Retry-After") is None
                        or "errors" not in body
                        or "terminat" in text
                        or "state" in text
                    ):
                        bad_bodies.append(text)
                else:
                    await response.read()

        async def cut() -> int:
            cuts = 0
            deadline = time.monotonic() + 4.0
            while time.monotonic() < deadline:
                pids = _pool_pids(store)
                if pids:
                    await admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", pids
                    )
                    cuts += len(pids)
                await asyncio.sleep(0.05)
            stop.set()
            return cuts

        try:
            results = await asyncio.gather(cut(), *(ask() for _ in range(8)))
        finally:
            await admin.close()
    assert results[0] > 10, "the test did not cut enough connections to mean anything"
    assert sum(statuses.values()) > 100, statuses
    assert statuses.get(500, 0) == 0, statuses
    assert set(statuses) <= {404, 503}, statuses
    assert not bad_bodies, bad_bodies[:3]
