"""A change reaches a push destination as soon as it is stored, not at the pusher's next look.

The pusher's own polls are pushed an hour away here, so only its wakes can deliver: a new
destination (added over the API) starts at once, and a change stored while a delivery round
is reading the queue is not lost until the next poll (the round's wake is cleared before it
reads, never after).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syndicate.core.tokens import new_token
from syndicate.service.push import delivery
from syndicate.web.keys import PUSHER, STORE
from tests.helpers.clients import running_app
from tests.helpers.receivers import Receiver
from tests.helpers.records import live_record
from tests.helpers.settings import build_settings
from tests.helpers.tokens import editor_header
from tests.helpers.waiting import wait_until

HOUR = 3600.0


@pytest.fixture
def no_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "POLL_SECONDS", HOUR)
    monkeypatch.setattr(delivery, "SUPERVISE_SECONDS", HOUR)


async def _partner_and_admin(client: Any) -> dict[str, str]:
    store = client.app[STORE]
    now = datetime.now(UTC)
    _, digest = new_token()
    await store.add_token(
        name="agency", role="partner", token_hash=digest, sections=("global",), now=now
    )
    secret, digest = new_token()
    await store.add_token(name="admin", role="admin", token_hash=digest, now=now)
    return {"Authorization": f"Bearer {secret}"}


async def _add_destination(client: Any, admin: dict[str, str], url: str) -> str:
    wanted = {"partner": "agency", "url": url, "format": "ninjs"}
    response = await client.post("/api/push", json=wanted, headers=admin)
    assert response.status == 201, await response.text()
    return str((await response.json())["secret"])


async def test_a_destination_added_over_the_api_is_pushed_to_at_once(
    tmp_path: Path, no_polls: None
) -> None:
    receiver = Receiver(behaviour=lambda n: "ok")
    url = await receiver.start()
    try:
        async with running_app(build_settings(tmp_path)) as client:
            admin = await _partner_and_admin(client)
            receiver.secret = await _add_destination(client, admin, url)
            editor = await editor_header(client)
            saved = await client.post(
                "/api/articles", json=live_record("first", sections=["global"]), headers=editor
            )
            assert saved.status == 201, await saved.text()

            async def arrived() -> bool:
                return any(r.guid.endswith(":first") for r in receiver.got)

            await wait_until(arrived, timeout=20, what="the first story at the new destination")
            assert receiver.bad_signatures == 0
    finally:
        await receiver.close()


async def test_a_change_stored_while_a_round_reads_is_delivered_without_a_poll(
    tmp_path: Path, no_polls: None
) -> None:
    receiver = Receiver(behaviour=lambda n: "ok")
    url = await receiver.start()
    try:
        async with running_app(build_settings(tmp_path)) as client:
            admin = await _partner_and_admin(client)
            receiver.secret = await _add_destination(client, admin, url)
            editor = await editor_header(client)
            store = client.app[STORE]
            real = store.changes_after
            read, go_on = asyncio.Event(), asyncio.Event()

            async def changes_after(*args: Any, **kwargs: Any) -> Any:
                found = await real(*args, **kwargs)
                if not read.is_set():  # the first empty read waits, its answer already made
                    read.set()
                    await go_on.wait()
                return found

            store.changes_after = changes_after  # type: ignore[method-assign]
            client.app[PUSHER].wake()  # a round now, which reads an empty queue and waits
            await asyncio.wait_for(read.wait(), 20)
            saved = await client.post(
                "/api/articles", json=live_record("during", sections=["global"]), headers=editor
            )
            assert saved.status == 201  # stored (and the pusher woken) after the round read
            go_on.set()

            async def arrived() -> bool:
                return any(r.guid.endswith(":during") for r in receiver.got)

            await wait_until(arrived, timeout=20, what="the story stored during the round")
    finally:
        await receiver.close()
