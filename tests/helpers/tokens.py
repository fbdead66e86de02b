"""Tokens for tests: stored by hash like the real ones; `create_token` gives the secret,
the `*_header` functions the `Authorization` header that carries a fresh one."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient

from syndicate.core.model import Role
from syndicate.core.tokens import new_token
from syndicate.store.base import Store
from syndicate.web.keys import STORE


async def create_token(
    store: Store,
    role: Role = "editor",
    sections: Sequence[str] | None = (),
    embargoed: bool = False,
    *,
    name: str | None = None,
) -> str:
    """A fresh token of `role` in the store, named `test <role>` unless named; its secret."""
    secret, digest = new_token()
    await store.add_token(
        name=name or f"test {role}",
        role=role,
        token_hash=digest,
        sections=list(sections or ()),
        embargoed=embargoed,
        now=datetime.now(UTC),
    )
    return secret


def auth_header(secret: str) -> dict[str, str]:
    """The `Authorization` header that carries `secret`."""
    return {"Authorization": f"Bearer {secret}"}


async def partner_header(
    store: Store,
    sections: Sequence[str] = ("global",),
    *,
    embargoed: bool = False,
    role: Role = "partner",
) -> dict[str, str]:
    """The header of a fresh partner token for `sections`, with a name of its own: revoking
    one partner's tokens by name must touch no other partner's."""
    name = f"{role}-{secrets.token_hex(4)}"
    return auth_header(
        await create_token(store, role, sections=sections, embargoed=embargoed, name=name)
    )


async def editor_header(client: TestClient[Any, Any]) -> dict[str, str]:
    """The header of a fresh editor token in the running app's store."""
    return auth_header(await create_token(client.app[STORE], "editor"))


async def metrics_header(client: TestClient[Any, Any]) -> dict[str, str]:
    """The header of a fresh metrics (scraper) token in the running app's store."""
    return auth_header(await create_token(client.app[STORE], "metrics"))
