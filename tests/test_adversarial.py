"""Attacks on the promises of "Safe by default" and "Time": embargo leaks, auth, input, HTTP.

Each test here failed before the fix it names in its docstring.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from syndicate.core.config import Settings
from syndicate.core.model import Article
from syndicate.render import FORMATS as FEED_FORMATS
from syndicate.render import FeedContext, render_feed_counted
from syndicate.store.base import Store
from syndicate.validate import check_record
from tests.helpers.clients import Client, MakeClient
from tests.helpers.partners import pull_all
from tests.helpers.records import validated_record
from tests.helpers.tokens import partner_header

FORMATS = ["newsml", "ninjs"]
NOW = datetime.now(UTC).replace(microsecond=0)
EMBARGO = NOW + timedelta(hours=1)


async def raw_pull(client: Client, fmt: str, section: str, headers: dict[str, str]) -> bytes:
    """Every page of a section pull, concatenated (for checking what text reached it)."""
    path = f"/partners/{fmt}/{section}.{'xml' if fmt == 'newsml' else 'json'}"
    out = b""
    since: str | None = None
    for _ in range(100):
        params = {"since": since} if since else {}
        async with client.get(path, headers=headers, params=params) as resp:
            assert resp.status in (200, 204), (resp.status, await resp.text())
            if resp.status == 204:
                return out
            out += await resp.read()
            since = resp.headers["X-Next-Cursor"]
    raise AssertionError("no end of pages")


# -- embargo -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_withdrawing_a_held_update_of_a_public_story_does_not_leak_the_update(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    """A public story, then a held update (new embargo), then a withdrawal: plain partners
    are told it is withheld, then get the kill notice, never the embargoed update's text."""
    client = await make_client(clock=NOW)
    plain = await partner_header(store)
    await store.put(validated_record("story", small), now=NOW - timedelta(minutes=5))
    secret = validated_record(
        "story", small, headline="SECRET-HEADLINE", embargo_until=EMBARGO.isoformat()
    )
    await store.put(secret, now=NOW)
    await store.withdraw("story", now=NOW)

    items, _ = await pull_all(client, fmt, "global", plain)
    assert [(p.id, p.status) for p in items] == [
        ("story", "usable"), ("story", "withheld"), ("story", "canceled")
    ]  # fmt: skip
    assert b"SECRET-HEADLINE" not in await raw_pull(client, fmt, "global", plain)


# -- input safety --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["<p>a&#1;b</p>", "<p>&#xFFFF;</p>", "<p>&#x0B;</p>", '<img alt="&#x1F;" src="x">']
)
def test_character_references_to_unxmlable_characters_are_rejected(
    settings: Settings, body: str
) -> None:
    """A body's `&#1;` reached the stored record as U+0001 (the check ran before sanitising
    decoded the reference), and the section's feeds then failed to serialise."""
    raw = {**validated_record("ref", settings), "body_html": body}
    stored, errors = check_record(raw, settings)
    assert stored is None
    assert [e.path for e in errors] == ["/body_html"]
    assert "XML 1.0" in errors[0].message


def test_rendering_a_sanitised_body_never_meets_unxmlable_text(settings: Settings) -> None:
    raw = {**validated_record("ok", settings), "body_html": "<p>a&#9;b&#10;c&#xA0;&amp;</p>"}
    stored, errors = check_record(raw, settings)
    assert errors == [] and stored is not None
    article = Article.from_record(stored)
    ctx = FeedContext.from_settings(settings)
    section = settings.feed_section("global")
    assert section is not None
    for name in FEED_FORMATS:
        render_feed_counted(name, ctx, section, [article])


# -- auth ----------------------------------------------------------------------------------------


async def raw_request(client: Client, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes the aiohttp client would refuse to; (status, headers, body) of the answer."""
    assert client.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    try:
        writer.write(head + b"Host: test\r\nConnection: close\r\n\r\n")
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    top, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = top.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    "path", [b"/api/status", b"/partners/newsml/global.xml", b"/partners/ninjs/items/x.json"]
)
@pytest.mark.parametrize("secret", [b"\xff\xfe", b"syn_\xc3\xa9\xff", b"\x80"])
async def test_a_token_that_is_not_utf8_is_401_not_500(
    make_client: MakeClient, path: bytes, secret: bytes
) -> None:
    """Header bytes that are not UTF-8 reach the handler as surrogates; hashing them raised."""
    client = await make_client()
    status, headers, body = await raw_request(
        client, b"GET " + path + b" HTTP/1.1\r\nAuthorization: Bearer " + secret + b"\r\n"
    )
    assert status == 401, body
    assert headers["www-authenticate"] == "Bearer"
    assert json.loads(body)["errors"][0]["message"] == "the token is not valid"


# -- ingest races ------------------------------------------------------------------------------


async def test_the_same_record_posted_20_times_at_once_is_created_once(
    make_client: MakeClient, store: Store, small: Settings
) -> None:
    client = await make_client()
    editor = await partner_header(store, role="editor")
    body = json.dumps(validated_record("twenty", small))

    async def post() -> tuple[int, str, int]:
        async with client.post(
            "/api/articles", data=body, headers={**editor, "Content-Type": "application/json"}
        ) as resp:
            answer = await resp.json()
            return resp.status, answer["outcome"], answer["version"]

    results = await asyncio.gather(*(post() for _ in range(20)))
    assert sorted(results) == [(200, "unchanged", 1)] * 19 + [(201, "created", 1)]
    assert (await store.max_seq()) == 1


async def test_two_puts_with_the_same_if_match_at_once_one_wins(
    make_client: MakeClient, store: Store, small: Settings
) -> None:
    client = await make_client()
    editor = await partner_header(store, role="editor")
    settings = small
    await store.put(validated_record("race", settings), now=NOW)

    async def put(headline: str) -> int:
        body = json.dumps({**validated_record("race", settings), "headline": headline})
        headers = {**editor, "Content-Type": "application/json", "If-Match": '"1"'}
        async with client.put("/api/articles/race", data=body, headers=headers) as resp:
            await resp.read()
            return resp.status

    statuses = await asyncio.gather(*(put(f"edit {n}") for n in range(10)))
    assert sorted(statuses) == [200] + [412] * 9
    stored = await store.get("race")
    assert stored is not None and stored.version == 2


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_story_moved_to_another_section_while_held_is_released_where_it_was_seen(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    """Public in `global`, then moved to `india` under a new embargo: at the release, the
    `global` partners heard nothing and kept the old version forever (a move without an
    embargo does reach them)."""
    client = await make_client(clock=EMBARGO + timedelta(seconds=1))
    plain = await partner_header(store, ("global",))
    await store.put(validated_record("mover", small), now=NOW - timedelta(minutes=5))
    _, cursor = await pull_all(client, fmt, "global", plain)
    moved = validated_record("mover", small, sections=["india"], embargo_until=EMBARGO.isoformat())
    await store.put(moved, now=NOW)
    await store.release_due(now=EMBARGO + timedelta(seconds=1))
    items, _ = await pull_all(client, fmt, "global", plain, cursor)
    assert [(p.id, p.version) for p in items] == [("mover", 2)]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_at_the_release_instant_feeds_and_partners_agree(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    """One microsecond before: nowhere; at the instant itself: in the feed and the item."""
    plain = await partner_header(store)
    await store.put(validated_record("onthedot", small, embargo_until=EMBARGO.isoformat()), now=NOW)
    just_before = EMBARGO - timedelta(microseconds=1)
    assert await store.latest("global", 10, now=just_before) == []
    assert await store.latest(None, 10, now=just_before) == []
    assert [a.id for a in await store.latest("global", 10, now=EMBARGO)] == ["onthedot"]
    ext = "xml" if fmt == "newsml" else "json"
    early = await make_client(clock=just_before)
    async with early.get(f"/partners/{fmt}/items/onthedot.{ext}", headers=plain) as resp:
        assert resp.status == 404
    on_time = await make_client(clock=EMBARGO)
    async with on_time.get(f"/partners/{fmt}/items/onthedot.{ext}", headers=plain) as resp:
        assert resp.status == 200
