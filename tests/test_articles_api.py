"""`GET /api/articles` (filters, headline search in any script, keyset paging) and
`GET /api/articles/{id}/versions` (every version, field-level differences), on both stores."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from syndicate.store.base import Store
from syndicate.validate import validate_record
from tests.helpers.clients import app_on
from tests.helpers.error_shape import error_body
from tests.helpers.records import record
from tests.helpers.settings import build_settings
from tests.helpers.texts import ARABIC_HEADLINE, HINDI_HEADLINE
from tests.helpers.tokens import auth_header, create_token

NOW = datetime.now(UTC)


def _at(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).isoformat(timespec="seconds")


async def _put(store: Store, tmp_path: Path, raw: dict[str, Any]) -> None:
    await store.put(validate_record(raw, build_settings(tmp_path)), now=datetime.now(UTC))


async def _ids(client: TestClient[Any, Any], auth: dict[str, str], query: str) -> list[str]:
    response = await client.get(f"/api/articles?{query}", headers=auth)
    assert response.status == 200, await response.text()
    body = await response.json()
    return [item["id"] for item in body["articles"]]


async def test_newest_first_with_filters_by_section_and_status(
    store: Store, tmp_path: Path
) -> None:
    await _put(store, tmp_path, record("old", published=_at(-48)))
    await _put(store, tmp_path, record("new", published=_at(-1), sections=["global"]))
    await _put(store, tmp_path, record("held", published=_at(-2), embargo_until=_at(5)))
    await _put(store, tmp_path, record("future", published=_at(3)))
    await _put(store, tmp_path, record("killed", published=_at(-3)))
    await store.withdraw("killed", now=datetime.now(UTC))
    async with app_on(store, build_settings(tmp_path)) as client:
        auth = auth_header(await create_token(store))
        assert await _ids(client, auth, "") == ["future", "new", "held", "killed", "old"]
        assert await _ids(client, auth, "status=published") == ["new", "old"]
        assert await _ids(client, auth, "status=held") == ["future", "held"]
        assert await _ids(client, auth, "status=withdrawn") == ["killed"]
        assert await _ids(client, auth, "section=global") == ["new"]
        assert await _ids(client, auth, "section=india&status=held") == ["future", "held"]
        response = await client.get("/api/articles?status=held", headers=auth)
        listed = (await response.json())["articles"]
        assert [i["state"] for i in listed] == ["held", "held"]
        assert listed[1]["release_at"].startswith(_at(5)[:16])
        assert listed[1]["article"]["version"] == 1
        assert response.headers["Cache-Control"] == "no-store"


async def test_headline_search_in_devanagari_arabic_and_latin(store: Store, tmp_path: Path) -> None:
    await _put(store, tmp_path, record("hi", headline=HINDI_HEADLINE, language="hi"))
    await _put(store, tmp_path, record("ar", headline=ARABIC_HEADLINE, language="ar"))
    await _put(store, tmp_path, record("en", headline="Cycle LANES approved in Pune"))
    async with app_on(store, build_settings(tmp_path)) as client:
        auth = auth_header(await create_token(store))
        # A whole Hindi word, and the beginning of one (with its nukta spelled two ways).
        assert await _ids(client, auth, "q=बाज़ार") == ["hi"]
        assert await _ids(client, auth, "q=बा\u095b") == ["hi"]  # ज़ as one code point
        assert await _ids(client, auth, "q=बाज\u093c") == ["hi"]  # and as two
        assert await _ids(client, auth, "q=ज़") == []  # no headline word begins with it
        assert await _ids(client, auth, "q=सेंसेक्स 70") == ["hi"]
        assert await _ids(client, auth, "q=सेंसेक्स pune") == []
        # Arabic, with short-vowel marks the headline does not carry.
        assert await _ids(client, auth, "q=الأسواقُ") == ["ar"]
        assert await _ids(client, auth, "q=ترتف") == ["ar"]
        assert await _ids(client, auth, "q=lanes") == ["en"]
        assert await _ids(client, auth, "q=PUN") == ["en"]
        assert await _ids(client, auth, "q=approves") == []
        # A headline edited: the search finds its new words, not its old ones.
        await _put(store, tmp_path, record("en", headline="Metro line opens in Pune"))
        assert await _ids(client, auth, "q=lanes") == []
        assert await _ids(client, auth, "q=metro") == ["en"]


async def test_cursor_pages_are_stable_while_articles_are_written(
    store: Store, tmp_path: Path
) -> None:
    for n in range(7):
        await _put(store, tmp_path, record(f"a{n}", published=_at(-10 + n)))
    async with app_on(store, build_settings(tmp_path)) as client:
        auth = auth_header(await create_token(store))
        first = await (await client.get("/api/articles?limit=3", headers=auth)).json()
        assert [i["id"] for i in first["articles"]] == ["a6", "a5", "a4"]
        cursor = first["next_cursor"]
        assert isinstance(cursor, str)
        # Meanwhile: a newer article arrives, one already seen is edited, one not yet seen too.
        await _put(store, tmp_path, record("late", published=_at(0)))
        await _put(store, tmp_path, record("a5", published=_at(-5), headline="Edited"))
        await _put(store, tmp_path, record("a2", published=_at(-8), headline="Edited too"))
        seen: list[str] = []
        while cursor:
            page = await (
                await client.get(f"/api/articles?limit=3&cursor={cursor}", headers=auth)
            ).json()
            seen += [i["id"] for i in page["articles"]]
            cursor = page["next_cursor"]
        assert seen == ["a3", "a2", "a1", "a0"]


async def test_bad_parameters_name_themselves(store: Store, tmp_path: Path) -> None:
    async with app_on(store, build_settings(tmp_path)) as client:
        auth = auth_header(await create_token(store))
        bad = await client.get("/api/articles?section=nowhere&status=lost&limit=0", headers=auth)
        errors = await error_body(bad, 422)
        assert {e["path"] for e in errors} == {"/section", "/status", "/limit"}
        for cursor in ("garbage", "eyJ4IjoxfQ", "WyJ4IiwiXHUwMDAwIl0"):
            await error_body(await client.get(f"/api/articles?cursor={cursor}", headers=auth), 400)
        await error_body(await client.get("/api/articles"), 401)
        partner = auth_header(await create_token(store, "partner", ["global"]))
        await error_body(await client.get("/api/articles", headers=partner), 403)


async def test_every_version_with_its_time_and_what_changed(store: Store, tmp_path: Path) -> None:
    await _put(store, tmp_path, record("v", headline="First", tags=["a"]))
    await _put(store, tmp_path, record("v", headline="Second", tags=["a", "b"], summary="S"))
    await _put(store, tmp_path, record("v", headline="Second", tags=["a", "b"], summary="S"))
    await store.withdraw("v", now=datetime.now(UTC))
    async with app_on(store, build_settings(tmp_path)) as client:
        auth = auth_header(await create_token(store))
        response = await client.get("/api/articles/v/versions", headers=auth)
        assert response.status == 200
        versions = (await response.json())["versions"]
        assert [(v["version"], v["kind"], v["status"]) for v in versions] == [
            (1, "created", "published"),
            (2, "updated", "published"),
            (3, "withdrawn", "withdrawn"),
        ]
        assert versions[0]["changes"] == []
        assert versions[0]["record"]["headline"] == "First"
        changes = {c["path"]: c for c in versions[1]["changes"]}
        assert set(changes) == {"/headline", "/summary", "/tags"}
        assert changes["/headline"] == {
            "path": "/headline", "op": "replace", "before": "First", "after": "Second"
        }  # fmt: skip
        assert changes["/summary"] == {"path": "/summary", "op": "add", "after": "S"}
        assert versions[2]["changes"] == [
            {"path": "/status", "op": "replace", "before": "published", "after": "withdrawn"}
        ]
        times = [datetime.fromisoformat(v["time"]) for v in versions]
        assert times == sorted(times)
        missing = await client.get("/api/articles/nope/versions", headers=auth)
        await error_body(missing, 404)


async def test_a_release_marks_the_version_it_released(store: Store, tmp_path: Path) -> None:
    await _put(store, tmp_path, record("e", embargo_until=_at(1)))
    await store.release_due(now=datetime.now(UTC) + timedelta(hours=2))
    async with app_on(store, build_settings(tmp_path)) as client:
        auth = auth_header(await create_token(store))
        versions = (await (await client.get("/api/articles/e/versions", headers=auth)).json())[
            "versions"
        ]
        assert [(v["version"], v["held"], v["released"]) for v in versions] == [(1, True, True)]


async def test_search_on_20000_articles_reads_only_what_matches(
    store: Store, tmp_path: Path
) -> None:
    """The cost figure the README quotes: a search reads the word index, not every article."""
    settings = build_settings(tmp_path)
    words = ["बाज़ार", "चुनाव", "मौसम", "क्रिकेट", "सरकार", "अदालत", "शिक्षा", "रेलवे"]
    batch = []
    for n in range(20_000):
        headline = f"{words[n % 8]} {words[(n // 8) % 8]} खबर {n}"
        batch.append(validate_record(record(f"n{n}", headline=headline, language="hi"), settings))
    for start in range(0, len(batch), 2000):
        await store.put_many(batch[start : start + 2000], now=datetime.now(UTC))
    first = time.perf_counter()
    found = await store.list_articles(
        section=None, state=None, words=["12345"], limit=20, after=None, now=datetime.now(UTC)
    )
    indexing = time.perf_counter() - first
    assert [a.id for a, _ in found] == ["n12345"]
    started = time.perf_counter()
    for _ in range(10):
        found = await store.list_articles(
            section=None, state=None, words=["1234"], limit=20, after=None, now=datetime.now(UTC)
        )
        assert {a.id for a, _ in found} == {f"n{i}" for i in (1234, *range(12340, 12350))}
    searching = (time.perf_counter() - started) / 10
    print(f"\n20,000 articles: first search (index built) {indexing * 1000:.0f} ms, "
          f"then {searching * 1000:.1f} ms a search")  # fmt: skip
    # Generous bounds for a shared two-core machine; the README quotes the measured figures.
    assert searching < 0.5
