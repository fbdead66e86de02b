"""The whole app in-process, behind a real loopback server: started, asked, stopped (its
cleanup contexts run). For a real `syndicate serve` process, see `processes`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDictProxy

from syndicate.core.config import Settings
from syndicate.store.base import Store
from syndicate.web.app import create_app
from syndicate.web.keys import REGENERATOR
from syndicate.web.reach import ONDEMAND
from tests.helpers.tokens import metrics_header

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]  # the `make_client` fixture (conftest.py)


async def start_app(settings: Settings, **kwargs: Any) -> Client:
    """`create_app(settings, **kwargs)` started behind a loopback server; the caller closes it."""
    client: Client = TestClient(TestServer(create_app(settings, **kwargs)))
    await client.start_server()
    return client


@asynccontextmanager
async def running_app(settings: Settings, **kwargs: Any) -> AsyncIterator[Client]:
    """`create_app(settings, **kwargs)` started, and stopped on exit."""
    client = await start_app(settings, **kwargs)
    try:
        yield client
    finally:
        await client.close()


@asynccontextmanager
async def app_on(store: Store, settings: Settings) -> AsyncIterator[Client]:
    """The app on `store` (the caller's, opened: both backends), timer off."""
    async with running_app(settings, store=store, run_scheduler=False) as client:
        yield client


async def regenerate(client: Client, *sections: str) -> None:
    """Regenerate (every section by default), check no section failed, and bring the
    on-demand caches (tag, author, archive feeds) up to date."""
    results = await client.app[REGENERATOR].regenerate(list(sections) or None)
    assert [r.error for r in results] == [None] * len(results)
    await client.app[ONDEMAND].catch_up()


async def fetch(
    client: Client, path: str, **headers: str
) -> tuple[int, CIMultiDictProxy[str], bytes]:
    """GET without compression unless asked; (status, headers, body)."""
    sent = {"Accept-Encoding": "identity", **headers}
    response = await client.get(path, headers=sent, auto_decompress=False)
    return response.status, response.headers, await response.read()


async def feed_text(client: Client, section: str, name: str) -> str | None:
    """The body of a served feed, or None while it is not generated yet."""
    response = await client.get(f"/feeds/{section}/{name}")
    if response.status == 404:
        return None
    assert response.status == 200, f"{section}/{name}: {response.status}"
    return await response.text()


async def scrape(client: Client) -> str:
    """The `/metrics` text, scraped with a fresh metrics token (it answers no one else)."""
    response = await client.get("/metrics", headers=await metrics_header(client))
    assert response.status == 200, await response.text()
    return await response.text()
