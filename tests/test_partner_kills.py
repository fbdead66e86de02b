"""What a hostile partner and a careless editor found, one test per finding, on every store.

- killed while held, then delivered anyway once the embargo time passed;
- moved out of a section: the new text went to the old section's partners, the kill never did;
- withdrawn while held: only embargo-privileged partners that had it hear of it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syndicate.core.config import Settings
from syndicate.store.base import Store
from tests.helpers.clients import MakeClient
from tests.helpers.partners import item_path, pull, pull_all
from tests.helpers.records import validated_record
from tests.helpers.tokens import partner_header

FORMATS = ["newsml", "ninjs"]
NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
EMBARGO = NOW + timedelta(hours=1)
LATER = EMBARGO + timedelta(seconds=1)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_story_killed_while_held_is_never_delivered_after_its_time(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    plain = await partner_header(store)
    early = await partner_header(store, embargoed=True)
    held = validated_record(
        "killed", small, headline="KILLED-HEADLINE", embargo_until=EMBARGO.isoformat()
    )
    await store.put(held, now=NOW)
    before = await make_client(clock=NOW)
    had, early_cursor = await pull_all(before, fmt, "global", early)
    assert [(p.id, p.status) for p in had] == [("killed", "usable")]
    await store.withdraw("killed", now=NOW + timedelta(minutes=1))
    assert await store.release_due(now=LATER) == []  # a withdrawn story is never released

    after = await make_client(clock=LATER)
    async with after.get(item_path(fmt, "killed"), headers=plain) as resp:
        assert resp.status == 404
        assert b"KILLED-HEADLINE" not in await resp.read()
    plain_items, _ = await pull_all(after, fmt, "global", plain)
    assert plain_items == []  # it never had it: it hears nothing of it
    # The embargo partner had it: exactly one kill notice, carrying what it had.
    kills, cursor = await pull_all(after, fmt, "global", early, early_cursor)
    assert [(p.id, p.status, p.version) for p in kills] == [("killed", "canceled", 2)]
    assert (await pull(after, fmt, "global", early, cursor)).status == 204


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_story_moved_out_of_a_section_is_canceled_for_its_partners(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    global_only = await partner_header(store, ("global",))
    india_only = await partner_header(store, ("india",))
    client = await make_client(clock=NOW)
    await store.put(validated_record("moved", small, headline="For the world"), now=NOW)
    had, cursor = await pull_all(client, fmt, "global", global_only)
    assert [(p.status, p.headline) for p in had] == [("usable", "For the world")]

    moved = validated_record("moved", small, headline="INDIA-ONLY-TEXT", sections=["india"])
    await store.put(moved, now=NOW + timedelta(minutes=1))
    told, cursor = await pull_all(client, fmt, "global", global_only, cursor)
    # Canceled, with nothing newer than it had: the India text is outside its licence.
    assert [(p.status, p.version, p.headline) for p in told] == [("canceled", 2, "For the world")]
    async with client.get(item_path(fmt, "moved"), headers=global_only) as resp:
        assert resp.status == 200 and b"INDIA-ONLY-TEXT" not in await resp.read()
    india, _ = await pull_all(client, fmt, "india", india_only)
    assert [(p.status, p.version, p.headline) for p in india] == [("usable", 1, "INDIA-ONLY-TEXT")]

    # The kill after the move: India's partner hears it; the global one was told already.
    await store.withdraw("moved", now=NOW + timedelta(minutes=2))
    assert (await pull(client, fmt, "global", global_only, cursor)).status == 204
    kills, _ = await pull_all(client, fmt, "india", india_only)
    assert [(p.status, p.headline) for p in kills] == [
        ("usable", "INDIA-ONLY-TEXT"), ("canceled", "INDIA-ONLY-TEXT")
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_held_move_into_a_section_reaches_its_partners_only_at_release(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    global_only = await partner_header(store, ("global",))
    india_only = await partner_header(store, ("india",))
    await store.put(validated_record("story", small, headline="Seen"), now=NOW)
    moved = validated_record("story", small, headline="HELD-IN-INDIA", sections=["india"])
    await store.put({**moved, "embargo_until": EMBARGO.isoformat()}, now=NOW)
    before = await make_client(clock=NOW)
    told, _ = await pull_all(before, fmt, "global", global_only)
    assert [(p.status, p.headline) for p in told] == [("usable", "Seen"), ("canceled", "Seen")]
    assert (await pull_all(before, fmt, "india", india_only))[0] == []
    await store.release_due(now=LATER)
    after = await make_client(clock=LATER)
    india, _ = await pull_all(after, fmt, "india", india_only)
    assert [(p.status, p.headline) for p in india] == [("usable", "HELD-IN-INDIA")]
