"""Pushed to partners: every change a partner would pull arrives at its endpoint, signed, in
order per item, exactly once after dropping repeats by idempotency key, through receivers
that fail with 500, hang past the sender's timeout and answer 429 with Retry-After."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate.core.clock import utc_now
from syndicate.service.push import check_url, sign, subscribe
from syndicate.web.keys import STORE
from tests.helpers.clients import running_app
from tests.helpers.partners import pull_all
from tests.helpers.receivers import Receiver
from tests.helpers.records import live_record
from tests.helpers.settings import build_settings
from tests.helpers.tokens import auth_header, create_token, editor_header
from tests.helpers.waiting import wait_until

PARTNER_SECTIONS = ("global", "india")


async def expected_by_pull(client: Any, fmt: str, headers: dict[str, str]) -> set[tuple]:
    """What the partner is told, read the other way (pulls of each of its sections)."""
    told = set()
    for section in PARTNER_SECTIONS:
        items, _ = await pull_all(client, fmt, section, headers)
        told |= {(p.id, p.version, p.status, p.headline) for p in items}
    return told


def received(receiver: Receiver) -> set[tuple]:
    return {
        (r.guid.rsplit(":", 1)[1], r.version, r.status, r.headline)
        for r in receiver.unique().values()
    }


def in_order_per_item(receiver: Receiver) -> bool:
    seen: dict[str, int] = {}
    for r in receiver.unique().values():
        if r.version <= seen.get(r.guid, 0):
            return False
        seen[r.guid] = r.version
    return True


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["newsml", "ninjs"])
async def test_every_change_arrives_once_in_order_through_failing_receivers(
    tmp_path: Path, fmt: str
) -> None:
    receiver = Receiver(hang_seconds=1.0)
    url = await receiver.start()
    settings = build_settings(tmp_path, push_timeout=0.4, publish_delay=0.2)
    try:
        async with running_app(settings) as client:
            store = client.app[STORE]
            editor = await editor_header(client)
            secret = await create_token(store, "partner", sections=PARTNER_SECTIONS, name="agency")
            partner = auth_header(secret)
            destination = await subscribe(store, "agency", url, fmt, (), now=utc_now())
            receiver.secret = destination.secret

            embargo = datetime.now(UTC) + timedelta(seconds=3)
            steps: list[tuple[str, dict[str, Any]]] = [
                ("post", live_record("a", sections=["global"])),
                ("post", live_record("b", sections=["india", "sport"])),
                ("post", {**live_record("a", sections=["global"]), "headline": "a, corrected"}),
                ("post", live_record("c", sections=["global"], embargo_until=embargo)),
                ("post", live_record("elsewhere", sections=["sport"])),
                ("post", {**live_record("b", sections=["sport"]), "headline": "b moved out"}),
                ("delete", {"id": "a"}),
            ]
            for how, body in steps:
                if how == "post":
                    resp = await client.post("/api/articles", json=body, headers=editor)
                    assert resp.status in (200, 201), await resp.text()
                else:
                    resp = await client.delete(f"/api/articles/{body['id']}", headers=editor)
                    assert resp.status == 200

            async def complete() -> bool:
                want = await expected_by_pull(client, fmt, partner)
                return ("c", 1, "usable", "headline c") in want and received(receiver) == want

            await wait_until(complete, timeout=60, what="every notice at the receiver", every=0.1)
            assert in_order_per_item(receiver)
            assert receiver.bad_signatures == 0
            assert set(receiver.failures) == {"500", "hang", "429"}  # each fault was met
            (held,) = [r for r in receiver.got if r.guid.endswith(":c")][:1]
            assert held.at >= embargo  # the plain partner got the held story at its time
            assert not [r for r in receiver.got if "elsewhere" in r.guid]

            status = await (await client.get("/api/status", headers=editor)).json()
            (shown,) = status["push"]
            # Each 2xx counted once; a hang the receiver answered too late is a failure here.
            assert shown["delivered"] == len(receiver.got)
            assert shown["failed"] == sum(receiver.failures.values())
            assert shown["queued"] == 0 and shown["dead"] == 0
            assert "secret" not in shown and destination.secret not in str(status)
    finally:
        await receiver.close()


def test_destinations_are_https_or_loopback_only() -> None:
    for good in ("https://outlet.example/in", "http://127.0.0.1:9/in", "http://[::1]:9/x"):
        assert check_url(good) == good
    for bad in ("http://outlet.example/in", "ftp://x/y", "https://u:p@outlet.example/", "/in"):
        with pytest.raises(ValueError):
            check_url(bad)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("k", "1700000000", b"{}") == "sha256=" + expected


async def _one_partner(client: Any, url: str, fmt: str = "ninjs") -> tuple[str, Any]:
    store = client.app[STORE]
    await create_token(store, "partner", sections=("global",), name="agency")
    destination = await subscribe(store, "agency", url, fmt, (), now=utc_now())
    return destination.secret, destination


async def test_a_refused_delivery_is_parked_and_the_rest_go_on(tmp_path: Path) -> None:
    # The receiver refuses its first request for good (400), then takes everything.
    receiver = Receiver(behaviour=lambda n: "400" if n == 1 else "ok")
    url = await receiver.start()
    settings = build_settings(tmp_path, push_timeout=0.4, publish_delay=0.2, push_dead_after=600)
    try:
        async with running_app(settings) as client:
            receiver.secret, destination = await _one_partner(client, url)
            editor = await editor_header(client)
            for n in range(3):
                body = live_record(f"r{n}", sections=["global"])
                assert (await client.post("/api/articles", json=body, headers=editor)).status == 201

            async def two_arrived() -> bool:
                return len(receiver.unique()) == 2

            await wait_until(
                two_arrived, timeout=30, what="the two after the refused one", every=0.1
            )
            status = await (await client.get("/api/status", headers=editor)).json()
            (shown,) = status["push"]
            assert shown["dead"] == 1 and shown["last_error"] == "HTTP 400"
            assert shown["queued"] == 0

            # An admin replays from the start: the same items again, under the same keys.
            keys = set(receiver.unique())
            admin = auth_header(await create_token(client.app[STORE], "admin", name="ops"))
            resp = await client.post(f"/api/push/{destination.id}/replay", headers=admin)
            assert resp.status == 200, await resp.text()
            before = len(receiver.got)

            async def replayed() -> bool:
                return len(receiver.got) >= before + 3

            await wait_until(replayed, timeout=30, what="the replay", every=0.1)
            # The refused one arrives on replay; the two it had come again under their keys.
            assert keys < set(receiver.unique()) and len(receiver.unique()) == 3
    finally:
        await receiver.close()


async def test_a_receiver_down_for_longer_than_push_dead_after_gets_it_parked(
    tmp_path: Path,
) -> None:
    receiver = Receiver(behaviour=lambda n: "500")
    url = await receiver.start()
    settings = build_settings(tmp_path, push_timeout=0.4, publish_delay=0.2, push_dead_after=1.5)
    try:
        async with running_app(settings) as client:
            receiver.secret, _ = await _one_partner(client, url)
            editor = await editor_header(client)
            body = live_record("down", sections=["global"])
            assert (await client.post("/api/articles", json=body, headers=editor)).status == 201

            async def parked() -> bool:
                status = await (await client.get("/api/status", headers=editor)).json()
                return bool(status["push"] and status["push"][0]["dead"] == 1)

            await wait_until(
                parked, timeout=30, what="the delivery to be parked as dead", every=0.1
            )
            assert receiver.failures["500"] >= 2  # retried with backoff before giving up
            assert receiver.got == []
    finally:
        await receiver.close()


async def test_an_embargo_partner_is_pushed_the_held_story_early_marked_embargoed(
    tmp_path: Path,
) -> None:
    receiver = Receiver(behaviour=lambda n: "ok")
    url = await receiver.start()
    settings = build_settings(tmp_path, push_timeout=0.4, publish_delay=0.2)
    try:
        async with running_app(settings) as client:
            store = client.app[STORE]
            await create_token(store, "partner", sections=("global",), embargoed=True, name="early")
            destination = await subscribe(store, "early", url, "newsml", (), now=utc_now())
            receiver.secret = destination.secret
            editor = await editor_header(client)
            embargo = datetime.now(UTC) + timedelta(hours=1)
            body = live_record("scoop", sections=["global"], embargo_until=embargo)
            assert (await client.post("/api/articles", json=body, headers=editor)).status == 201

            async def arrived() -> bool:
                return len(receiver.unique()) == 1

            await wait_until(
                arrived, timeout=30, what="the held story at the embargo partner", every=0.1
            )
            (item,) = receiver.unique().values()
            assert item.status == "usable" and item.embargoed is not None
            # The release time, as the record has it (to the millisecond).
            assert abs((datetime.fromisoformat(item.embargoed) - embargo).total_seconds()) < 0.001
    finally:
        await receiver.close()
