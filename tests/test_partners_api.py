"""Partner syndication over HTTP: statuses, the error shape, schema-valid documents, cursors,
ETags, corrections and withdrawals, and the embargo rules, on every store backend.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syndicate.core.config import Settings
from syndicate.store.base import Store
from syndicate.validate import validate_record
from syndicate.web.app import create_app
from tests.helpers.clients import Client, MakeClient
from tests.helpers.error_shape import first_error
from tests.helpers.iptc import newsml_errors, ninjs_errors, parse_xml
from tests.helpers.partners import (
    JSON,
    NEWSML_ITEM,
    NS,
    PROVIDER,
    Pulled,
    item_path,
    news_items,
    pull,
    pull_all,
    section_path,
)
from tests.helpers.paths import ARTICLE_FIXTURES, ROOT
from tests.helpers.records import validated_record
from tests.helpers.tokens import partner_header

FORMATS = ["newsml", "ninjs"]
VALID = ARTICLE_FIXTURES / "valid"
DEMO = ROOT / "syndicate" / "demo" / "articles.json"
NOW = datetime.now(UTC).replace(microsecond=0)
EMBARGO = NOW + timedelta(hours=1)


async def get_item(client: Client, fmt: str, article_id: str, headers: dict[str, str]) -> Pulled:
    """Fetch one item, validate it against the IPTC schema, return what it says."""
    async with client.get(item_path(fmt, article_id), headers=headers) as resp:
        body = await resp.read()
        assert resp.status == 200, (resp.status, body[:300])
        if fmt == "newsml":
            assert resp.content_type == NEWSML_ITEM
            assert newsml_errors(body) == []
            (found,) = news_items(parse_xml(body))
        else:
            assert resp.content_type == JSON
            document = json.loads(body)
            assert ninjs_errors(document) == []
            assert document["uri"] == f"urn:newsml:{PROVIDER}:{article_id}"
            version, status = int(document["version"]), document["pubstatus"]
            found = Pulled(article_id, version, status, document.get("embargoed"))
        return found


async def validate_page(fmt: str, body: bytes) -> None:
    if fmt == "newsml":
        assert newsml_errors(body) == []
    else:
        for item in json.loads(body)["items"]:
            assert ninjs_errors(item) == []


# -- statuses and the one error shape ------------------------------------------------------


async def test_a_partner_token_is_accepted_on_every_backend(
    aiohttp_client: Any, store: Store, small: Settings
) -> None:
    client = await aiohttp_client(create_app(small, store=store, run_scheduler=False))
    async with client.get(
        "/partners/ninjs/global.json", headers=await partner_header(store)
    ) as resp:
        assert resp.status == 204


ALL_PATHS = [
    "/partners/newsml/global.xml",
    "/partners/ninjs/global.json",
    "/partners/newsml/items/a.xml",
    "/partners/ninjs/items/a.json",
]


@pytest.mark.parametrize("path", ALL_PATHS)
async def test_401_without_a_valid_token(make_client: MakeClient, path: str) -> None:
    client = await make_client()
    for headers in ({}, {"Authorization": "Bearer syn_nope"}, {"Authorization": "Basic eDp5"}):
        async with client.get(path, headers=headers) as resp:
            await first_error(resp, 401)
            assert resp.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ALL_PATHS)
async def test_403_for_an_editor_token(make_client: MakeClient, store: Store, path: str) -> None:
    client = await make_client()
    editor = await partner_header(store, role="editor")
    async with client.get(path, headers=editor) as resp:
        assert "partner token" in await first_error(resp, 403)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_section_statuses(make_client: MakeClient, store: Store, fmt: str) -> None:
    client = await make_client()
    sport = await partner_header(store, ("sport",))
    async with client.get(section_path(fmt, "global"), headers=sport) as resp:
        assert "not entitled" in await first_error(resp, 403)
    async with client.get(section_path(fmt, "nowhere"), headers=sport) as resp:
        assert "no such section" in await first_error(resp, 404)
    # The router's own 404 (a name no section can have) uses the same shape.
    async with client.get(section_path(fmt, "Not_A_Slug"), headers=sport) as resp:
        await first_error(resp, 404)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    # The last is the old readable form (`v1.7.<crc32>`), which anyone could forge.
    "cursor",
    ["", "%%%", "djEuMS4wMDAwMDAwMA", "x" * 65, "djEuNy45YjdmZDMzMA"],
)
async def test_400_for_a_malformed_cursor(
    make_client: MakeClient, store: Store, fmt: str, cursor: str
) -> None:
    client = await make_client()
    headers = await partner_header(store)
    async with client.get(
        section_path(fmt, "global"), headers=headers, params={"since": cursor}
    ) as resp:
        assert (await first_error(resp, 400)).startswith("cursor:")


@pytest.mark.parametrize("fmt", FORMATS)
async def test_400_for_another_partners_or_another_sections_cursor(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    client = await make_client()
    one = await partner_header(store, ("global", "sport"))
    other = await partner_header(store, ("global", "sport"))
    await store.put(validated_record("a", small), now=NOW)
    page = await pull(client, fmt, "global", one)
    assert page.status == 200
    assert (await pull(client, fmt, "global", one, page.cursor)).status == 204
    for headers, section in ((other, "global"), (one, "sport")):
        params = {"since": page.cursor}
        async with client.get(section_path(fmt, section), headers=headers, params=params) as resp:
            assert "not one this service issued" in await first_error(resp, 400)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_the_cursor_does_not_move_for_changes_the_partner_cannot_see(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    client = await make_client()
    plain = await partner_header(store, ("global",))
    await store.put(validated_record("seen", small), now=NOW)
    first = await pull(client, fmt, "global", plain)
    assert first.status == 200
    # Held saves in its section and saves elsewhere: nothing it may see, so nothing moves.
    await store.put(validated_record("held", small, embargo_until=EMBARGO.isoformat()), now=NOW)
    await store.put(validated_record("elsewhere", small, sections=["sport"]), now=NOW)
    again = await pull(client, fmt, "global", plain, first.cursor)
    assert (
        again.status == 204
        and again.cursor == first.cursor
        and again.etag == (await pull(client, fmt, "global", plain, first.cursor)).etag
    )


@pytest.mark.parametrize("fmt", FORMATS)
async def test_item_statuses(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    client = await make_client()
    await store.put(validated_record("in-sport", small, sections=["sport"]), now=NOW)
    await store.put(validated_record("held", small, embargo_until=EMBARGO.isoformat()), now=NOW)
    plain = await partner_header(store, ("global",))
    unknown = await _error_body(client, item_path(fmt, "nobody"), plain)
    # Outside its sections or held: a plain partner cannot even learn that it exists; the
    # answer is an unknown id's, word for word (but for the id).
    for hidden in ("in-sport", "held"):
        body = await _error_body(client, item_path(fmt, hidden), plain)
        assert body == unknown.replace("nobody", hidden)
    embargo = await partner_header(store, ("global",), embargoed=True)
    seen = await get_item(client, fmt, "held", embargo)
    assert seen.embargoed is not None and datetime.fromisoformat(seen.embargoed) == EMBARGO


@pytest.mark.parametrize("fmt", FORMATS)
async def test_nothing_yet_is_204_with_a_cursor(
    make_client: MakeClient, store: Store, fmt: str
) -> None:
    client = await make_client()
    headers = await partner_header(store)
    page = await pull(client, fmt, "global", headers)
    assert page.status == 204 and page.cursor
    assert (await pull(client, fmt, "global", headers, page.cursor)).status == 204


async def _error_body(client: Any, path: str, headers: dict[str, str]) -> str:
    async with client.get(path, headers=headers) as resp:
        assert resp.status == 404
        return await resp.text()


# -- paging, cursors, ETags ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_pages_follow_the_cursor_oldest_first(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    client = await make_client()
    headers = await partner_header(store, ("global", "business"))
    for n in range(8):
        sections = ["global"] if n % 3 else ["global", "business"]
        await store.put(validated_record(f"a{n}", small, sections=sections), now=NOW)
        await store.put(validated_record(f"s{n}", small, sections=["sport"]), now=NOW)
    statuses = []
    since: str | None = None
    got: list[Pulled] = []
    while True:
        page = await pull(client, fmt, "global", headers, since)
        statuses.append(page.status)
        if page.status == 204:
            break
        assert len(page.items) <= small.partner_page_size
        await validate_page(fmt, page.body)
        got.extend(page.items)
        since = page.cursor
    assert statuses == [200, 200, 200, 204]
    assert [(p.id, p.version) for p in got] == [(f"a{n}", 1) for n in range(8)]
    business, _ = await pull_all(client, fmt, "business", headers)
    assert [p.id for p in business] == ["a0", "a3", "a6"]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_weak_etag_per_page_and_304(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    client = await make_client()
    headers = await partner_header(store)
    for n in range(5):
        await store.put(validated_record(f"a{n}", small), now=NOW)
    first = await pull(client, fmt, "global", headers)
    assert first.etag is not None and first.etag.startswith('W/"')
    again = await pull(client, fmt, "global", headers)
    assert again.etag == first.etag and again.cursor == first.cursor
    cached = await pull(client, fmt, "global", headers, extra={"If-None-Match": first.etag})
    assert cached.status == 304 and cached.cursor == first.cursor
    second = await pull(client, fmt, "global", headers, first.cursor)
    assert second.status == 200 and second.etag != first.etag
    stale = await pull(
        client, fmt, "global", headers, first.cursor, extra={"If-None-Match": first.etag}
    )
    assert stale.status == 200


# -- every kind of article through the item endpoints -----------------------------------------


def _fixture_records(settings: Settings) -> list[dict[str, Any]]:
    records = [
        validate_record(json.loads(path.read_text("utf-8")), settings)
        for path in sorted(VALID.glob("*.json"))
    ]
    demo = json.loads(DEMO.read_text("utf-8"))
    hindi = next(r for r in demo if r["language"] == "hi" and "kim" in r["id"])
    records.append(validate_record(hindi, settings))
    return records


@pytest.mark.conformance
@pytest.mark.parametrize("fmt", FORMATS)
async def test_every_fixture_article_validates_through_the_item_endpoint(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    client = await make_client()
    everything = tuple(s.slug for s in small.sections)
    embargo = await partner_header(store, everything, embargoed=True)
    plain = await partner_header(store, everything)
    records = _fixture_records(small)
    assert len(records) == len(list(VALID.glob("*.json"))) + 1
    for rec in records:
        await store.put(rec, now=NOW)
    # Variants: corrected twice, withdrawn, embargoed into the future.
    base = records[0]
    fixed = {**base, "editorial_note": "Corrects the spelling of a name."}
    await store.put({**fixed, "headline": base["headline"] + " (corrected)"}, now=NOW)
    await store.put({**fixed, "headline": base["headline"] + " (corrected again)"}, now=NOW)
    await store.put(validated_record("to-withdraw", small), now=NOW)
    await store.withdraw("to-withdraw", now=NOW)
    await store.put(
        validated_record("embargoed-later", small, embargo_until=EMBARGO.isoformat()), now=NOW
    )
    ids = [r["id"] for r in records] + ["to-withdraw", "embargoed-later"]
    for article_id in ids:
        stored = await store.get(article_id)
        assert stored is not None
        seen = await get_item(client, fmt, article_id, embargo)
        assert (seen.id, seen.version) == (article_id, stored.version)
        assert seen.status == ("canceled" if stored.status == "withdrawn" else "usable")
        if stored.release_at > NOW:
            assert seen.embargoed is not None
            async with client.get(item_path(fmt, article_id), headers=plain) as resp:
                await first_error(resp, 404)
        else:
            assert (await get_item(client, fmt, article_id, plain)).version == stored.version
    assert (await get_item(client, fmt, base["id"], plain)).version == 3
    # Every section pull of everything validates too, for both views.
    for headers in (plain, embargo):
        for section in everything:
            since: str | None = None
            while (page := await pull(client, fmt, section, headers, since)).status == 200:
                await validate_page(fmt, page.body)
                since = page.cursor


async def test_corrections_raise_the_version_keep_the_guid_and_signal_update(
    make_client: MakeClient, store: Store, small: Settings
) -> None:
    client = await make_client()
    headers = await partner_header(store)
    await store.put(validated_record("story", small), now=NOW)
    await store.put(
        validated_record("story", small, headline="Fixed", editorial_note="Corrects the date."),
        now=NOW,
    )
    await store.put(validated_record("story", small, headline="Fixed again"), now=NOW)
    await store.withdraw("story", now=NOW)
    async with client.get(item_path("newsml", "story"), headers=headers) as resp:
        root = parse_xml(await resp.read())
    assert root.get("version") == "4"
    assert root.xpath("string(//g:pubStatus/@qcode)", namespaces=NS) == "stat:canceled"
    since: str | None = None
    roots = []
    while (page := await pull(client, "newsml", "global", headers, since)).status == 200:
        roots.extend(parse_xml(page.body).xpath("//g:newsItem", namespaces=NS))  # type: ignore[arg-type]
        since = page.cursor
    assert [r.get("version") for r in roots] == ["1", "2", "3", "4"]
    assert {r.get("guid") for r in roots} == {f"urn:newsml:{PROVIDER}:story"}
    signals = [r.xpath("g:itemMeta/g:signal/@qcode", namespaces=NS) for r in roots]
    assert signals == [[], ["sig:update", "sig:correction"], ["sig:update"], ["sig:update"]]
    statuses = [r.xpath("string(g:itemMeta/g:pubStatus/@qcode)", namespaces=NS) for r in roots]
    assert statuses == ["stat:usable"] * 3 + ["stat:canceled"]
    ninjs, _ = await pull_all(client, "ninjs", "global", headers)
    assert [(p.version, p.status) for p in ninjs] == [
        (1, "usable"), (2, "usable"), (3, "usable"), (4, "canceled")
    ]  # fmt: skip


# -- embargo ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_embargo_reaches_plain_partners_once_after_release(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    before = await make_client(clock=NOW)
    plain = await partner_header(store)
    early = await partner_header(store, embargoed=True)
    await store.put(validated_record("public-1", small), now=NOW)
    await store.put(validated_record("secret", small, embargo_until=EMBARGO.isoformat()), now=NOW)
    await store.put(
        validated_record("secret", small, embargo_until=EMBARGO.isoformat(), headline="v2"), now=NOW
    )
    await store.put(validated_record("public-2", small), now=NOW)

    plain_items, plain_cursor = await pull_all(before, fmt, "global", plain)
    assert [p.id for p in plain_items] == ["public-1", "public-2"]
    async with before.get(item_path(fmt, "secret"), headers=plain) as resp:
        await first_error(resp, 404)
    early_items, early_cursor = await pull_all(before, fmt, "global", early)
    assert [(p.id, p.version) for p in early_items] == [
        ("public-1", 1), ("secret", 1), ("secret", 2), ("public-2", 1)
    ]  # fmt: skip
    marked = [p for p in early_items if p.id == "secret"]
    assert all(p.embargoed and datetime.fromisoformat(p.embargoed) == EMBARGO for p in marked)
    assert (await get_item(before, fmt, "secret", early)).embargoed is not None

    # Not yet due: nothing is released, nothing new for anyone.
    assert await store.release_due(now=EMBARGO - timedelta(seconds=1)) == []
    assert (await pull(before, fmt, "global", plain, plain_cursor)).status == 204
    released = await store.release_due(now=EMBARGO + timedelta(seconds=1))
    assert [a.id for a in released] == ["secret"]
    assert await store.release_due(now=EMBARGO + timedelta(seconds=2)) == []

    after = await make_client(clock=EMBARGO + timedelta(seconds=1))
    delivered, plain_cursor = await pull_all(after, fmt, "global", plain, plain_cursor)
    # The plain partner's first version of it (it never saw the held ones), the newest text.
    assert [(p.id, p.version, p.headline) for p in delivered] == [("secret", 1, "v2")]
    assert (await pull(after, fmt, "global", plain, plain_cursor)).status == 204
    # The embargo partner has v2 already: the release is not a second delivery.
    assert (await pull(after, fmt, "global", early, early_cursor)).status == 204
    assert (await get_item(after, fmt, "secret", plain)).version == 1


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_release_decided_by_a_clock_ahead_of_ours_is_served_not_a_500(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    # Another process (the timer's leader) released it; this one's clock is a little behind.
    client = await make_client(clock=EMBARGO - timedelta(seconds=2))
    plain = await partner_header(store)
    await store.put(validated_record("secret", small, embargo_until=EMBARGO.isoformat()), now=NOW)
    await store.release_due(now=EMBARGO)
    items, _ = await pull_all(client, fmt, "global", plain)
    assert [(p.id, p.version) for p in items] == [("secret", 1)]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_embargo_partner_page_of_only_releases_does_not_hide_what_follows(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    client = await make_client(clock=EMBARGO + timedelta(seconds=1))
    early = await partner_header(store, embargoed=True)
    for n in range(small.partner_page_size):
        await store.put(
            validated_record(f"held{n}", small, embargo_until=EMBARGO.isoformat()), now=NOW
        )
    _, cursor = await pull_all(client, fmt, "global", early)
    await store.release_due(now=EMBARGO + timedelta(seconds=1))
    await store.put(validated_record("fresh", small), now=EMBARGO + timedelta(seconds=1))
    # The first page after the cursor holds only releases; a 204 here would say "nothing new".
    page = await pull(client, fmt, "global", early, cursor)
    assert page.status == 200 and [p.id for p in page.items] == ["fresh"]
    assert (await pull(client, fmt, "global", early, page.cursor)).status == 204


@pytest.mark.parametrize("fmt", FORMATS)
async def test_withdrawn_before_release_stays_unseen_by_plain_partners(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    client = await make_client(clock=NOW)
    plain = await partner_header(store)
    early = await partner_header(store, embargoed=True)
    await store.put(validated_record("pulled", small, embargo_until=EMBARGO.isoformat()), now=NOW)
    await store.withdraw("pulled", now=NOW)
    assert (await pull(client, fmt, "global", plain)).status == 204
    async with client.get(item_path(fmt, "pulled"), headers=plain) as resp:
        await first_error(resp, 404)
    seen = await get_item(client, fmt, "pulled", early)
    assert (seen.version, seen.status) == (2, "canceled")
    items, _ = await pull_all(client, fmt, "global", early)
    assert [(p.version, p.status) for p in items] == [(1, "usable"), (2, "canceled")]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_item_strong_etag_304_and_private_caching(
    make_client: MakeClient, store: Store, small: Settings, fmt: str
) -> None:
    client = await make_client()
    headers = await partner_header(store)
    await store.put(validated_record("a", small), now=NOW)
    async with client.get(item_path(fmt, "a"), headers=headers) as resp:
        assert resp.status == 200
        etag = resp.headers["ETag"]
        assert etag.startswith('"') and resp.headers["Cache-Control"] == "private, no-cache"
        assert resp.headers["Vary"] == "Authorization"
    async with client.get(item_path(fmt, "a"), headers={**headers, "If-None-Match": etag}) as resp:
        assert resp.status == 304 and resp.headers["ETag"] == etag
    await store.put(validated_record("a", small, headline="Changed"), now=NOW)
    async with client.get(item_path(fmt, "a"), headers={**headers, "If-None-Match": etag}) as resp:
        assert resp.status == 200 and resp.headers["ETag"] != etag
