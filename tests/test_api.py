"""The editor API over HTTP: create/replace/withdraw, If-Match, bulk NDJSON, errors, Unicode."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from syndicate.core.errors import StoreError
from syndicate.store.sqlite import SQLiteStore
from syndicate.web.app import create_app
from tests.helpers.error_shape import error_body
from tests.helpers.records import hindi_record, record
from tests.helpers.settings import build_settings
from tests.helpers.stores import sqlite_store
from tests.helpers.texts import ARABIC_HEADLINE, EMOJI_HEADLINE, HINDI_HEADLINE
from tests.helpers.tokens import auth_header, create_token

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
JSON = {"Content-Type": "application/json"}
NDJSON = {"Content-Type": "application/x-ndjson"}
# Was a 500: json.loads raises RecursionError, not JSONDecodeError, on deep nesting.
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture
async def api_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with sqlite_store(tmp_path / "store.db") as store:
        yield store


@pytest.fixture
def make_client(aiohttp_client: Any, api_store: SQLiteStore, tmp_path: Path) -> ClientFactory:
    async def make(**overrides: Any) -> TestClient[Any, Any]:
        settings = build_settings(tmp_path, **overrides)
        client: TestClient[Any, Any] = await aiohttp_client(
            create_app(settings, store=api_store, run_scheduler=False)
        )
        return client

    return make


@pytest.fixture
async def client(make_client: ClientFactory) -> TestClient[Any, Any]:
    return await make_client()


@pytest.fixture
async def editor(api_store: SQLiteStore) -> dict[str, str]:
    return auth_header(await create_token(api_store, "editor"))


def _body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


async def _post(
    client: TestClient[Any, Any], headers: dict[str, str], value: Any
) -> tuple[int, dict[str, Any]]:
    resp = await client.post("/api/articles", data=_body(value), headers={**headers, **JSON})
    return resp.status, await resp.json()


# -- create, replace, unchanged -------------------------------------------------------------
async def test_post_creates_then_unchanged_then_new_version(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    status, body = await _post(client, editor, record("a-1"))
    assert status == 201
    assert (body["id"], body["version"], body["status"], body["outcome"]) == (
        "a-1",
        1,
        "published",
        "created",
    )

    status, body = await _post(client, editor, record("a-1"))
    assert status == 200
    assert (body["version"], body["outcome"]) == (1, "unchanged")

    status, body = await _post(client, editor, record("a-1", headline="Cycle lanes: a correction"))
    assert status == 200
    assert (body["version"], body["outcome"]) == (2, "updated")
    assert body["headline"] == "Cycle lanes: a correction"


async def test_get_returns_record_with_version_status_and_etag(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    await _post(client, editor, record("a-1"))
    await _post(client, editor, record("a-1", summary="Now with a summary."))
    resp = await client.get("/api/articles/a-1", headers=editor)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert resp.headers["ETag"] == '"2"'
    body = await resp.json()
    assert body["version"] == 2
    assert body["status"] == "published"
    assert body["summary"] == "Now with a summary."
    assert body["sections"] == ["india"]


async def test_put_honours_if_match(client: TestClient[Any, Any], editor: dict[str, str]) -> None:
    await _post(client, editor, record("a-1"))
    await _post(client, editor, record("a-1", headline="Second version"))

    stale = await client.put(
        "/api/articles/a-1",
        data=_body(record("a-1", headline="Lost update")),
        headers={**editor, **JSON, "If-Match": '"1"'},
    )
    errors = await error_body(stale, 412)
    assert "version" in errors[0]["message"] or "1" in errors[0]["message"]
    current = await (await client.get("/api/articles/a-1", headers=editor)).json()
    assert (current["version"], current["headline"]) == (2, "Second version")

    fresh = await client.put(
        "/api/articles/a-1",
        data=_body(record("a-1", headline="Third version")),
        headers={**editor, **JSON, "If-Match": '"2"'},
    )
    assert fresh.status == 200
    assert fresh.headers["ETag"] == '"3"'
    body = await fresh.json()
    assert (body["version"], body["headline"]) == (3, "Third version")


async def test_put_with_a_weak_if_match_never_matches(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    await _post(client, editor, record("a-1"))
    resp = await client.put(
        "/api/articles/a-1",
        data=_body(record("a-1", headline="Weakly matched")),
        headers={**editor, **JSON, "If-Match": 'W/"1"'},
    )
    await error_body(resp, 412)
    current = await (await client.get("/api/articles/a-1", headers=editor)).json()
    assert current["version"] == 1


async def test_put_creates_with_201_and_takes_the_id_from_the_url(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    resp = await client.put(
        "/api/articles/p-1", data=_body(record("p-1", id=None)), headers={**editor, **JSON}
    )
    assert resp.status == 201
    body = await resp.json()
    assert (body["id"], body["version"]) == ("p-1", 1)
    assert (await client.get("/api/articles/p-1", headers=editor)).status == 200


async def test_put_with_a_different_id_in_the_body_is_422_at_id(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    resp = await client.put(
        "/api/articles/p-1", data=_body(record("other")), headers={**editor, **JSON}
    )
    errors = await error_body(resp, 422)
    assert [e["path"] for e in errors] == ["/id"]
    for article_id in ("p-1", "other"):
        gone = await client.get(f"/api/articles/{article_id}", headers=editor)
        await error_body(gone, 404)


async def test_put_if_match_star_needs_an_existing_article(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    resp = await client.put(
        "/api/articles/p-1", data=_body(record("p-1")), headers={**editor, **JSON, "If-Match": "*"}
    )
    await error_body(resp, 412)
    await error_body(await client.get("/api/articles/p-1", headers=editor), 404)


async def test_put_with_a_malformed_if_match_is_400(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    resp = await client.put(
        "/api/articles/p-1",
        data=_body(record("p-1")),
        headers={**editor, **JSON, "If-Match": "version one"},
    )
    errors = await error_body(resp, 400)
    assert "If-Match" in errors[0]["message"]


# -- withdraw -------------------------------------------------------------------------------
async def test_delete_withdraws_and_the_record_stays(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    await _post(client, editor, record("a-1"))
    resp = await client.delete("/api/articles/a-1", headers=editor)
    assert resp.status == 200
    body = await resp.json()
    assert (body["status"], body["version"]) == ("withdrawn", 2)
    assert resp.headers["ETag"] == '"2"'

    again = await client.get("/api/articles/a-1", headers=editor)
    assert again.status == 200
    stored = await again.json()
    assert (stored["status"], stored["version"], stored["headline"]) == (
        "withdrawn",
        2,
        record("a-1")["headline"],
    )


async def test_delete_unknown_article_is_404(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    errors = await error_body(await client.delete("/api/articles/nope", headers=editor), 404)
    assert "nope" in errors[0]["message"]


# -- bulk -----------------------------------------------------------------------------------
async def test_bulk_stores_the_valid_lines_and_reports_the_bad_one(
    client: TestClient[Any, Any], editor: dict[str, str], api_store: SQLiteStore
) -> None:
    lines = []
    for n in range(1, 1001):
        rec = record(f"bulk-{n:04d}")
        if n == 500:
            rec["sections"] = ["astrology"]
        lines.append(json.dumps(rec, ensure_ascii=False))
    resp = await client.post(
        "/api/articles/bulk", data="\n".join(lines).encode("utf-8"), headers={**editor, **NDJSON}
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["summary"]["created"] == 999
    assert body["summary"]["rejected"] == 1
    assert len(body["results"]) == 1000
    rejected = [r for r in body["results"] if r["outcome"] == "rejected"]
    assert len(rejected) == 1
    assert (rejected[0]["line"], rejected[0]["id"]) == (500, "bulk-0500")
    assert [e["path"] for e in rejected[0]["errors"]] == ["/sections/0"]
    assert "astrology" in rejected[0]["errors"][0]["message"]
    assert [r["line"] for r in body["results"]] == list(range(1, 1001))

    assert await api_store.get("bulk-0500") is None
    stored = [await api_store.get(f"bulk-{n:04d}") for n in (1, 499, 501, 1000)]
    assert all(a is not None and a.version == 1 for a in stored)
    assert await api_store.count("india", now=_far_future()) == 999


async def test_bulk_reports_a_malformed_line_by_number(
    client: TestClient[Any, Any], editor: dict[str, str], api_store: SQLiteStore
) -> None:
    text = "\n".join(
        [
            json.dumps(record("b-1")),
            "",  # blank lines are skipped but still counted
            '{"id": "b-2", "headline": ',
            json.dumps(record("b-3")),
        ]
    )
    resp = await client.post(
        "/api/articles/bulk", data=text.encode("utf-8"), headers={**editor, **NDJSON}
    )
    body = await resp.json()
    assert resp.status == 200
    by_line = {r["line"]: r for r in body["results"]}
    assert sorted(by_line) == [1, 3, 4]
    assert by_line[3]["outcome"] == "rejected"
    assert by_line[3]["errors"][0]["message"].startswith("malformed JSON")
    assert (by_line[1]["outcome"], by_line[4]["outcome"]) == ("created", "created")
    assert await api_store.get("b-2") is None


async def test_bulk_reports_a_too_deeply_nested_line_and_stores_the_rest(
    client: TestClient[Any, Any], editor: dict[str, str], api_store: SQLiteStore
) -> None:
    text = b"\n".join([_body(record("d-1")), DEEP, _body(record("d-3"))])
    resp = await client.post("/api/articles/bulk", data=text, headers={**editor, **NDJSON})
    assert resp.status == 200
    results = (await resp.json())["results"]
    assert [(r["line"], r["outcome"]) for r in results] == [
        (1, "created"),
        (2, "rejected"),
        (3, "created"),
    ]
    assert "nested too deeply" in results[1]["errors"][0]["message"]
    assert await api_store.get("d-3") is not None


async def test_bulk_wants_ndjson(client: TestClient[Any, Any], editor: dict[str, str]) -> None:
    resp = await client.post(
        "/api/articles/bulk", data=_body(record("b-1")), headers={**editor, **JSON}
    )
    await error_body(resp, 415)


# -- validation: all errors at once, nothing half-stored ------------------------------------
async def test_422_names_every_field_and_stores_nothing(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    bad = record(
        "bad-1",
        headline="",
        language="hindi",
        sections=["india", "astrology"],
        published="yesterday",
    )
    errors = await error_body(
        await client.post("/api/articles", data=_body(bad), headers={**editor, **JSON}), 422
    )
    paths = {e["path"] for e in errors}
    assert {"/headline", "/language", "/sections/1", "/published"} <= paths
    await error_body(await client.get("/api/articles/bad-1", headers=editor), 404)


async def test_422_on_update_leaves_the_stored_version(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    await _post(client, editor, record("a-1"))
    resp = await client.put(
        "/api/articles/a-1",
        data=_body(record("a-1", headline="ok", canonical_url="javascript:alert(1)")),
        headers={**editor, **JSON},
    )
    errors = await error_body(resp, 422)
    assert [e["path"] for e in errors] == ["/canonical_url"]
    stored = await (await client.get("/api/articles/a-1", headers=editor)).json()
    assert (stored["version"], stored["headline"]) == (1, record("a-1")["headline"])


async def test_a_lone_surrogate_is_a_422_not_a_crash(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    # Valid JSON (an escape), but no UTF-8 or XML can carry it.
    raw = json.dumps(record("s-1", headline="bad \ud800 text")).encode("ascii")
    resp = await client.post("/api/articles", data=raw, headers={**editor, **JSON})
    errors = await error_body(resp, 422)
    assert "/headline" in {e["path"] for e in errors}


# -- Unicode round trip ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headline", "language"),
    [(HINDI_HEADLINE, "hi"), (ARABIC_HEADLINE, "ar"), (EMOJI_HEADLINE, "en")],
    ids=["devanagari", "arabic-rtl", "emoji"],
)
async def test_text_round_trips_byte_exact(
    client: TestClient[Any, Any], editor: dict[str, str], headline: str, language: str
) -> None:
    summary = f"{headline} — सारांश / ملخص"
    rec = hindi_record("u-1", headline=headline, language=language, summary=summary)
    status, _ = await _post(client, editor, rec)
    assert status == 201
    resp = await client.get("/api/articles/u-1", headers=editor)
    raw = await resp.read()
    body = json.loads(raw.decode("utf-8"))
    assert body["headline"] == headline
    assert body["summary"] == summary
    # Sent as UTF-8 characters, not \u escapes: the headline's own bytes are in the body.
    assert json.dumps(headline, ensure_ascii=False).encode("utf-8") in raw


# -- errors: one shape for every status -----------------------------------------------------
async def test_malformed_json_is_400(client: TestClient[Any, Any], editor: dict[str, str]) -> None:
    resp = await client.post("/api/articles", data=b'{"id": "x",', headers={**editor, **JSON})
    errors = await error_body(resp, 400)
    assert "malformed JSON" in errors[0]["message"]


async def test_missing_or_wrong_token_is_401_with_bearer_challenge(
    client: TestClient[Any, Any],
) -> None:
    for headers in (
        {},
        auth_header("syn_not-a-real-token"),
        {"Authorization": "Basic dXNlcjpwdw=="},
    ):
        resp = await client.get("/api/articles/a-1", headers=headers)
        await error_body(resp, 401)
        assert resp.headers["WWW-Authenticate"] == "Bearer"


async def test_partner_token_on_editor_endpoint_is_403(
    client: TestClient[Any, Any], api_store: SQLiteStore
) -> None:
    partner = auth_header(await create_token(api_store, "partner", sections=["global"]))
    resp = await client.post(
        "/api/articles", data=_body(record("a-1")), headers={**partner, **JSON}
    )
    await error_body(resp, 403)
    assert await api_store.get("a-1") is None


async def test_too_large_is_413_and_stores_nothing(
    make_client: ClientFactory, editor: dict[str, str], api_store: SQLiteStore
) -> None:
    client = await make_client(max_request_bytes=2048)
    big = record("big-1", body_html="<p>" + "x" * 4096 + "</p>")
    resp = await client.post("/api/articles", data=_body(big), headers={**editor, **JSON})
    await error_body(resp, 413)
    assert await api_store.get("big-1") is None
    small = await client.post(
        "/api/articles", data=_body(record("s-1")), headers={**editor, **JSON}
    )
    assert small.status == 201


async def test_unexpected_failures_answer_in_the_error_shape_without_details(
    client: TestClient[Any, Any],
    editor: dict[str, str],
    api_store: SQLiteStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(article_id: str) -> None:
        raise RuntimeError("secret connection string postgresql://u:pw@db")

    monkeypatch.setattr(api_store, "get", broken)
    errors = await error_body(await client.get("/api/articles/a-1", headers=editor), 500)
    assert errors == [{"path": "", "message": "internal error"}]

    async def unavailable(article_id: str) -> None:
        raise StoreError("store: database is locked")

    monkeypatch.setattr(api_store, "get", unavailable)
    errors = await error_body(await client.get("/api/articles/a-1", headers=editor), 503)
    assert errors[0]["message"].startswith("store: ")


async def test_openapi_document_is_served(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/api/openapi.yaml")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/yaml")
    text = await resp.text()
    assert text.startswith("openapi:") or "\nopenapi:" in text
    for path in ("/api/articles", "/api/articles/bulk", "/api/articles/{id}", "/feeds/"):
        assert path in text


def _far_future() -> Any:
    from datetime import UTC, datetime

    return datetime(2100, 1, 1, tzinfo=UTC)


# The datasette-style table: every way a request can fail answers in the one shape.
ERROR_CASES: list[tuple[str, str, str, dict[str, str] | None, bytes | None, int]] = [
    # (id, method, path, headers (None: no token), body, status)
    ("malformed-json", "POST", "/api/articles", JSON, b"{not json", 400),
    ("empty-body", "POST", "/api/articles", JSON, b"", 400),
    ("not-utf8", "POST", "/api/articles", JSON, b'{"id": "\xff"}', 400),
    ("nested-too-deeply", "POST", "/api/articles", JSON, DEEP, 400),
    ("put-nested-too-deeply", "PUT", "/api/articles/a-1", JSON, DEEP, 400),
    ("bulk-not-utf8", "POST", "/api/articles/bulk", NDJSON, b"\xff\xfe", 400),
    ("no-token", "POST", "/api/articles", None, b"{}", 401),
    ("no-token-bulk", "POST", "/api/articles/bulk", None, b"", 401),
    ("no-token-status", "GET", "/api/status", None, None, 401),
    ("no-token-regenerate", "POST", "/api/regenerate", None, None, 401),
    ("unknown-article", "GET", "/api/articles/nope", {}, None, 404),
    ("unknown-route", "GET", "/api/nothing-here", {}, None, 404),
    ("unknown-feed-section", "GET", "/feeds/astrology/rss.xml", {}, None, 404),
    ("wrong-method", "PATCH", "/api/articles/a-1", {}, b"{}", 405),
    # GET lists articles now (the desk's list); PATCH is still no method of the collection.
    ("wrong-method-collection", "PATCH", "/api/articles", {}, b"{}", 405),
    ("form-post", "POST", "/api/articles", {"Content-Type": "text/plain"}, b"{}", 415),
    ("no-content-type", "POST", "/api/articles", {}, b"{}", 415),
    ("put-form", "PUT", "/api/articles/a-1", {"Content-Type": "text/plain"}, b"{}", 415),
    ("not-an-object", "POST", "/api/articles", JSON, b"[1, 2]", 422),
    ("empty-object", "POST", "/api/articles", JSON, b"{}", 422),
    ("bad-id-in-url", "PUT", "/api/articles/bad%20id", JSON, _body(record("bad id")), 422),
    ("regenerate-unknown-section", "POST", "/api/regenerate", JSON, b'{"sections": ["x"]}', 404),
    ("regenerate-not-a-list", "POST", "/api/regenerate", JSON, b'{"sections": "global"}', 422),
    ("regenerate-not-an-object", "POST", "/api/regenerate", JSON, b"[]", 400),
]


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status"),
    [pytest.param(*case[1:], id=case[0]) for case in ERROR_CASES],
)
async def test_error_shape(
    client: TestClient[Any, Any],
    editor: dict[str, str],
    method: str,
    path: str,
    headers: dict[str, str] | None,
    body: bytes | None,
    status: int,
) -> None:
    sent = {} if headers is None else {**editor, **headers}
    resp = await client.request(method, path, data=body, headers=sent)
    await error_body(resp, status)
    if status == 405:
        assert resp.headers["Allow"]


# -- regeneration and status through the API ----------------------------------------------------
async def test_regenerate_endpoint_renders_the_asked_sections(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    await _post(client, editor, hindi_record("hi-1"))
    before = await client.get("/feeds/global/rss.xml")
    await error_body(before, 404)  # nothing generated yet

    resp = await client.post(
        "/api/regenerate", data=_body({"sections": ["global"]}), headers={**editor, **JSON}
    )
    assert resp.status == 200
    results = (await resp.json())["results"]
    assert [(r["section"], r["items"], r["changed"], r["error"]) for r in results] == [
        ("global", 1, True, None)
    ]
    assert {f["format"] for f in results[0]["formats"]} == {"rss", "atom", "json"}
    served = await client.get("/feeds/global/rss.xml")
    assert served.status == 200
    rss_etag = next(f["etag"] for f in results[0]["formats"] if f["format"] == "rss")
    assert served.headers["ETag"] == rss_etag
    await error_body(await client.get("/feeds/india/rss.xml"), 404)

    everything = await client.post("/api/regenerate", headers=editor)
    sections = [r["section"] for r in (await everything.json())["results"]]
    assert sections == ["global", "top-story", "india", "business", "technology", "sport", "all"]


async def test_status_endpoint_lists_sections_and_generations(
    client: TestClient[Any, Any], editor: dict[str, str]
) -> None:
    await _post(client, editor, hindi_record("hi-1"))
    await client.post("/api/regenerate", data=_body({"sections": []}), headers={**editor, **JSON})
    resp = await client.get("/api/status", headers=editor)
    assert resp.status == 200
    body = await resp.json()
    by_slug = {s["section"]: s for s in body["sections"]}
    assert set(by_slug) == {
        "global",
        "top-story",
        "india",
        "business",
        "technology",
        "sport",
        "all",
    }
    assert (by_slug["global"]["items"], by_slug["sport"]["items"], by_slug["all"]["items"]) == (
        1,
        0,
        1,
    )
    assert by_slug["global"]["last_generation"] is not None
    assert by_slug["global"]["last_error"] is None
    assert set(by_slug["global"]["etags"]) == {"rss.xml", "atom.xml", "feed.json"}
    assert body["pending_releases"] == []
