"""Shared fixtures: settings built from data (never from the working directory), and the app
on the `store` fixture for partner tests. The store fixtures (`store`, `store_factory`,
`pg_factory`, `pg_location`) and the browser ones (`browser`, `page`) are plugins below."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from syndicate.core.clock import utc_now
from syndicate.core.config import Settings
from syndicate.store.base import Store
from syndicate.web.app import create_app
from tests.helpers.clients import Client, MakeClient
from tests.helpers.settings import HTTP_BASE_URL, build_settings

pytest_plugins = ["tests.helpers.stores", "tests.helpers.browser"]


@pytest.fixture
def settings() -> Settings:
    """The test sections at the plain-HTTP base (so the test client sends the desk's cookie
    back); nothing on disk."""
    return build_settings(base_url=HTTP_BASE_URL)


@pytest.fixture
def small() -> Settings:
    """The test sections with partner pages of three, to make paging show."""
    return build_settings(partner_page_size=3)


@pytest.fixture
def make_client(aiohttp_client: Any, store: Store, small: Settings) -> MakeClient:
    """A test client on `store`; `clock` fixes the app's "now"."""

    async def make(clock: datetime | None = None, settings: Settings = small) -> Client:
        fixed = (lambda: clock) if clock is not None else utc_now
        app = create_app(settings, store=store, run_scheduler=False, clock=fixed)
        client: Client = await aiohttp_client(app)
        return client

    return make
