"""Hostile values over HTTP: each gets its own 422 or per-line rejection, never a 500."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from syndicate.pipeline import ingest as ingest_module
from syndicate.pipeline.ingest import ingest, parse_ndjson
from syndicate.store.base import Store
from syndicate.store.sqlite import SQLiteStore
from syndicate.web.app import create_app
from tests.helpers.clients import MakeClient
from tests.helpers.error_shape import error_body
from tests.helpers.records import record
from tests.helpers.settings import build_settings
from tests.helpers.tokens import auth_header, create_token

NDJSON = {"Content-Type": "application/x-ndjson"}
JSON = {"Content-Type": "application/json"}
# A lone surrogate survives json.loads; written out as UTF-8 it raised UnicodeEncodeError.
SURROGATE_LINE = '{"id": "\\ud800", "headline": "x"}'


async def _client(aiohttp_client: Any, tmp_path: Path) -> tuple[TestClient[Any, Any], Any]:
    store = SQLiteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await store.open()
    app = create_app(build_settings(tmp_path), store=store, run_scheduler=False)
    app.on_cleanup.append(lambda _app: store.close())
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client, store


async def test_bulk_line_with_a_lone_surrogate_id_is_rejected_alone(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client, store = await _client(aiohttp_client, tmp_path)
    editor = auth_header(await create_token(store, "editor"))
    text = "\n".join([json.dumps(record("s-1")), SURROGATE_LINE, json.dumps(record("s-3"))])
    resp = await client.post(
        "/api/articles/bulk", data=text.encode("utf-8"), headers={**editor, **NDJSON}
    )
    assert resp.status == 200
    by_line = {r["line"]: r for r in (await resp.json())["results"]}
    assert [by_line[n]["outcome"] for n in (1, 2, 3)] == ["created", "rejected", "created"]
    assert by_line[2]["id"] == "\\ud800"
    assert "/id" in {e["path"] for e in by_line[2]["errors"]}
    assert await store.get("s-1") is not None and await store.get("s-3") is not None


async def test_ingest_results_carry_no_lone_surrogates(tmp_path: Path) -> None:
    results = await ingest(parse_ndjson(SURROGATE_LINE), build_settings(tmp_path), None)
    assert [r.outcome for r in results] == ["rejected"]
    json.dumps([r.as_dict() for r in results], ensure_ascii=False).encode("utf-8")


async def test_far_instants_are_422_over_http_and_nothing_is_stored(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client, store = await _client(aiohttp_client, tmp_path)
    editor = auth_header(await create_token(store, "editor"))
    for n, field in enumerate(("embargo_until", "updated", "published")):
        raw = record(f"far-{n}", **{field: "9999-12-31T23:59:59-23:59"})
        resp = await client.post(
            "/api/articles", data=json.dumps(raw).encode("utf-8"), headers={**editor, **JSON}
        )
        errors = await error_body(resp, 422)
        assert [e["path"] for e in errors] == [f"/{field}"]
        assert await store.get(f"far-{n}") is None


async def test_dot_ids_are_422_over_http(aiohttp_client: Any, tmp_path: Path) -> None:
    client, store = await _client(aiohttp_client, tmp_path)
    editor = auth_header(await create_token(store, "editor"))
    for dots in (".", "..", "..."):
        resp = await client.post(
            "/api/articles",
            data=json.dumps(record(dots)).encode("utf-8"),
            headers={**editor, **JSON},
        )
        errors = await error_body(resp, 422)
        assert [e["path"] for e in errors] == ["/id"]
        assert "only dots" in errors[0]["message"]


class Ticker:
    """Counts how often the event loop lets a 1 ms sleeper run, and the longest wait."""

    def __init__(self) -> None:
        self.ticks = 0
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.001)
            now = loop.time()
            self.ticks += 1
            self.worst = max(self.worst, now - last)
            last = now

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.ensure_future(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def test_validating_a_bulk_gives_the_loop_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1 ms rather than 20: the count of ticks then no longer depends on the machine's speed.
    monkeypatch.setattr(ingest_module, "YIELD_EVERY_S", 0.001)
    # Distinct bodies: each one is sanitised (no cache hit), as in a real bulk.
    bodies = (f"<p>{n}</p>" * 50 for n in range(2000))
    text = "\n".join(json.dumps(record(f"t-{n}", body_html=b)) for n, b in enumerate(bodies))
    async with Ticker() as ticker:
        results = await ingest(parse_ndjson(text), build_settings(tmp_path), None)
    assert [r.outcome for r in results] == ["valid"] * 2000
    # Before: no store, no yield at all, and not one tick until all 2,000 were checked.
    assert ticker.ticks >= 10, ticker.ticks


async def test_a_large_body_is_validated_off_the_loop(
    aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, store = await _client(aiohttp_client, tmp_path)
    editor = auth_header(await create_token(store, "editor"))
    real = ingest_module.check_record

    def slow_check(raw: Any, settings: Any) -> Any:
        time.sleep(0.3)  # stands in for a costly sanitising: it holds whichever thread runs it
        return real(raw, settings)

    monkeypatch.setattr(ingest_module, "check_record", slow_check)
    body = "<p>" + "word " * (ingest_module.OFF_LOOP_BODY_CHARS // 5) + "</p>"
    data = json.dumps(record("big-1", body_html=body)).encode("utf-8")
    async with Ticker() as ticker:
        resp = await client.post("/api/articles", data=data, headers={**editor, **JSON})
    assert resp.status == 201
    # Inline, the loop would wait the whole 0.3 s; in a thread it keeps ticking.
    assert ticker.worst < 0.15, ticker.worst


@pytest.mark.parametrize("path", ["a%00b", "a%0A", "..%2F", "%2E%2E"])
async def test_ids_no_record_can_have_are_404_on_every_store(
    make_client: MakeClient, store: Store, path: str
) -> None:
    client = await make_client()
    editor = auth_header(await create_token(store, "editor"))
    for method in ("GET", "DELETE"):
        async with client.request(method, f"/api/articles/{path}", headers=editor) as resp:
            errors = await error_body(resp, 404)  # was a 503 with driver text on PostgreSQL
            assert len(errors) == 1 and "\x00" not in errors[0]["message"]
