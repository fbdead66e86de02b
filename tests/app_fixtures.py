"""Builders for tests that run the whole app: settings on tmp_path, tokens, records, waiting.

Plain functions (not fixtures) so test modules import what they need.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from syndicate.config import Settings, settings_from_mapping
from syndicate.model import Role
from syndicate.tokens import new_token
from syndicate.web.app import create_app
from syndicate.web.keys import STORE
from tests.conftest import SECTIONS

POLL = 0.05


def app_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for an app on a SQLite store in `tmp_path`; the timer is hourly by default."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'store.db'}",
        "feeds_dir": str(tmp_path / "feeds"),
        "base_url": "http://feeds.test",
        "regen_interval": 3600,
        "run_scheduler": True,
    }
    values.update(overrides)
    return settings_from_mapping({"sections": SECTIONS}, environ={}, **values)


@asynccontextmanager
async def running_app(settings: Settings, **kwargs: Any) -> AsyncIterator[TestClient[Any, Any]]:
    """A started app behind a real loopback server; stopped (cleanup contexts run) on exit."""
    app = create_app(settings, **kwargs)
    async with TestClient(TestServer(app)) as client:
        yield client


async def editor_token(client: TestClient[Any, Any]) -> dict[str, str]:
    """Authorization headers for a fresh editor token in the app's store."""
    return await _token(client, "editor")


async def metrics_token(client: TestClient[Any, Any]) -> dict[str, str]:
    """Authorization headers for a fresh metrics (scraper) token in the app's store."""
    return await _token(client, "metrics")


async def scrape(client: TestClient[Any, Any]) -> str:
    """The `/metrics` text, scraped with a fresh metrics token (it answers no one else)."""
    response = await client.get("/metrics", headers=await metrics_token(client))
    assert response.status == 200, await response.text()
    return await response.text()


async def _token(client: TestClient[Any, Any], role: Role) -> dict[str, str]:
    secret, digest = new_token()
    await client.app[STORE].add_token(
        name=f"test {role}", role=role, token_hash=digest, now=datetime.now(UTC)
    )
    return {"Authorization": f"Bearer {secret}"}


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def record(
    article_id: str,
    *,
    sections: list[str],
    published: datetime | None = None,
    embargo_until: datetime | None = None,
) -> dict[str, Any]:
    """A valid article whose headline is its id (easy to look for in any output)."""
    published = published or datetime.now(UTC) - timedelta(minutes=5)
    out: dict[str, Any] = {
        "id": article_id,
        "headline": f"headline {article_id}",
        "body_html": f"<p>body of {article_id}</p>",
        "language": "en",
        "sections": sections,
        "published": rfc3339(published),
        "canonical_url": f"https://news.example/{article_id}",
    }
    if embargo_until is not None:
        out["embargo_until"] = rfc3339(embargo_until)
    return out


async def wait_until(
    condition: Callable[[], Awaitable[bool]], *, timeout: float, what: str
) -> float:
    """Poll `condition` every 50 ms until true; fail naming `what` after `timeout` seconds.

    Returns when (time.time()) the condition was first seen true.
    """
    deadline = time.monotonic() + timeout
    while True:
        if await condition():
            return time.time()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}")
        await asyncio.sleep(POLL)


async def feed_text(client: TestClient[Any, Any], section: str, name: str) -> str | None:
    """The body of a served feed, or None while it is not generated yet."""
    response = await client.get(f"/feeds/{section}/{name}")
    if response.status == 404:
        return None
    assert response.status == 200, f"{section}/{name}: {response.status}"
    return await response.text()
