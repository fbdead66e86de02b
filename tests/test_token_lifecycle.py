"""Tokens have a life: created (with an expiry), listed without their secret, rotated, revoked;
`admin` tokens manage them over `/api/tokens`; last use is recorded in batches; a revocation on
one process is refused by another at once. On every store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syndicate.core.config import Settings
from syndicate.core.tokens import new_token, parse_duration
from syndicate.store.base import Store
from syndicate.web.auth import USE
from tests.helpers.clients import Client, start_app
from tests.helpers.error_shape import first_error
from tests.helpers.stores import StoreFactory
from tests.helpers.tokens import auth_header, partner_header

PULL = "/partners/ninjs/global.json"


async def _client(store: Store, settings: Settings) -> Client:
    return await start_app(settings, store=store, run_scheduler=False)


async def test_admin_creates_lists_rotates_and_revokes(store: Store, small: Settings) -> None:
    client = await _client(store, small)
    try:
        admin = await partner_header(store, (), role="admin")
        made = await client.post(
            "/api/tokens",
            json={"name": "agency", "role": "partner", "sections": ["global"], "expires_in": "30d"},
            headers=admin,
        )
        assert made.status == 201, await made.text()
        body = await made.json()
        first = auth_header(body["secret"])
        expires = datetime.fromisoformat(body["expires"]) - datetime.now(UTC)
        assert timedelta(days=29, hours=23) < expires <= timedelta(days=30)
        assert (await client.get(PULL, headers=first)).status == 204

        listed = await (await client.get("/api/tokens", headers=admin)).json()
        (agency,) = [t for t in listed["tokens"] if t["name"] == "agency"]
        assert agency["role"] == "partner" and agency["sections"] == ["global"]
        assert body["secret"] not in str(listed) and "hash" not in str(listed)

        again = await client.post(
            "/api/tokens", json={"name": "agency", "role": "editor"}, headers=admin
        )
        assert "exists" in await first_error(again, 409)

        rotated = await (await client.post("/api/tokens/agency/rotate", headers=admin)).json()
        second = auth_header(rotated["secret"])
        assert rotated["sections"] == ["global"] and rotated["expires"] == body["expires"]
        assert "not valid" in await first_error(await client.get(PULL, headers=first), 401)
        assert (await client.get(PULL, headers=second)).status == 204

        revoked = await client.delete("/api/tokens/agency", headers=admin)
        assert (await revoked.json())["revoked"] == 1
        assert (await client.get(PULL, headers=second)).status == 401
        gone = await client.delete("/api/tokens/agency", headers=admin)
        assert "no token named" in await first_error(gone, 404)
    finally:
        await client.close()


async def test_only_admin_tokens_manage_tokens_and_bad_requests_name_the_field(
    store: Store, small: Settings
) -> None:
    client = await _client(store, small)
    try:
        for role in ("editor", "partner", "metrics"):
            other = await partner_header(store, ("global",) if role == "partner" else (), role=role)
            assert (await client.get("/api/tokens", headers=other)).status == 403
        assert (await client.get("/api/tokens")).status == 401
        admin = await partner_header(store, (), role="admin")
        bad = await client.post(
            "/api/tokens",
            json={"name": "", "role": "chief", "sections": ["nowhere"], "expires_in": "forever"},
            headers=admin,
        )
        assert bad.status == 422
        paths = [e["path"] for e in (await bad.json())["errors"]]
        assert {"/name", "/role", "/sections/0", "/expires_in"} <= set(paths)
        # An admin token also scrapes /metrics, and opens no editor endpoint.
        assert (await client.get("/metrics", headers=admin)).status == 200
        assert (await client.get("/api/status", headers=admin)).status == 403
    finally:
        await client.close()


async def test_an_expired_token_is_refused(store: Store, small: Settings) -> None:
    secret, digest = new_token()
    now = datetime.now(UTC)
    await store.add_token(
        name="old", role="editor", token_hash=digest, now=now - timedelta(days=2),
        expires=now - timedelta(seconds=1),
    )  # fmt: skip
    client = await _client(store, small)
    try:
        resp = await client.get("/api/status", headers=auth_header(secret))
        assert "expired" in await first_error(resp, 401)
    finally:
        await client.close()


async def test_last_use_is_recorded_in_one_batch_not_per_request(
    store: Store, small: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await _client(store, small)
    writes: list[int] = []
    touch = store.touch_tokens

    async def counted(used: Any) -> None:
        writes.append(len(used))
        await touch(used)

    monkeypatch.setattr(store, "touch_tokens", counted)
    try:
        headers = await partner_header(store)
        for _ in range(20):
            assert (await client.get(PULL, headers=headers)).status == 204
        (token,) = [t for t in await store.list_tokens() if t.role == "partner"]
        assert token.last_used is None and writes == []  # nothing written per request
        await client.app[USE].flush(store)
        (token,) = [t for t in await store.list_tokens() if t.role == "partner"]
        assert token.last_used is not None and writes == [1]
        assert datetime.now(UTC) - token.last_used < timedelta(seconds=30)
    finally:
        await client.close()


async def test_a_revocation_is_refused_by_every_process_at_once(
    store_factory: StoreFactory, small: Settings
) -> None:
    one, two = store_factory(), store_factory()
    await one.open()
    await two.open()
    first, second = await _client(one, small), await _client(two, small)
    try:
        headers = await partner_header(one)
        assert (await second.get(PULL, headers=headers)).status == 204
        (token,) = [t for t in await one.list_tokens() if t.role == "partner"]
        await one.revoke_tokens(token.name, now=datetime.now(UTC))
        # The very next request on the other process: each request looks its token up.
        assert (await second.get(PULL, headers=headers)).status == 401
        assert (await first.get(PULL, headers=headers)).status == 401
    finally:
        await first.close()
        await second.close()
        await one.close()
        await two.close()


@pytest.mark.parametrize(
    ("text", "seconds"), [("90m", 5400), ("12h", 43200), ("30d", 2592000), ("2w", 1209600)]
)
def test_lifetimes_parse(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "30", "0d", "-1d", "1y", "30 days", "99999w"])
def test_bad_lifetimes_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match=r"e\.g\. 30d|ten years"):
        parse_duration(text)
