"""Helpers for the desk's HTTP tests: an app on a given store, signing in, reading its pages.

Plain functions (no fixtures), like `web_fixtures`: test modules import what they use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import lxml.html
from aiohttp.test_utils import TestClient, TestServer

from syndicate.config import Settings
from syndicate.store.base import Store
from syndicate.web.app import create_app


@asynccontextmanager
async def app_client(store: Store, settings: Settings) -> AsyncIterator[TestClient[Any, Any]]:
    """The whole app on `store` (opened by the caller), behind a loopback server."""
    client: TestClient[Any, Any] = TestClient(
        TestServer(create_app(settings, store=store, run_scheduler=False))
    )
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def page(text: str) -> Any:
    """An HTML page as an lxml tree, to query by id, XPath or CSS."""
    return lxml.html.fromstring(text)


def form_csrf(text: str) -> str:
    """The CSRF token of the first form on the page that carries one."""
    found = page(text).xpath("//form//input[@name='csrf']/@value")
    assert found, "no form with a CSRF token on the page"
    return str(found[0])


async def sign_in(client: TestClient[Any, Any], secret: str) -> str:
    """Sign in through the form as a browser would; returns the session's CSRF token."""
    form = await client.get("/desk/sign-in")
    assert form.status == 200, form.status
    signed = await client.post(
        "/desk/sign-in",
        data={"token": secret, "csrf": form_csrf(await form.text())},
        allow_redirects=False,
    )
    assert signed.status == 303, (signed.status, await signed.text())
    assert signed.headers["Location"] == "/desk/articles"
    articles = await client.get("/desk/articles")
    assert articles.status == 200
    return form_csrf(await articles.text())
