"""`POST /api/import/page` over HTTP, on SQLite and PostgreSQL: the page as the body, the
section and language as parameters; the editor's token; the one error shape."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from syndicate.store.base import Store
from syndicate.web.app import create_app
from tests.helpers.error_shape import error_body
from tests.helpers.imports import STORIES, canonical, html_page, seed_page
from tests.helpers.records import record
from tests.helpers.settings import build_settings
from tests.helpers.texts import AYODHYA
from tests.helpers.tokens import auth_header, create_token

HTML = {"Content-Type": "text/html; charset=utf-8"}
TEXT = {"Content-Type": "text/plain; charset=utf-8"}


@pytest.fixture
async def client(aiohttp_client: Any, store: Store, tmp_path: Path) -> TestClient[Any, Any]:
    app = create_app(build_settings(tmp_path), store=store, run_scheduler=False)
    made: TestClient[Any, Any] = await aiohttp_client(app)
    return made


@pytest.fixture
async def editor(store: Store) -> dict[str, str]:
    return auth_header(await create_token(store, "editor"))


async def test_an_html_page_is_created_then_unchanged(
    client: TestClient[Any, Any], editor: dict[str, str], store: Store
) -> None:
    story = STORIES["ar"]
    page = html_page(story, "json-ld").encode()
    resp = await client.post(
        "/api/import/page?section=global", data=page, headers={**editor, **HTML}
    )
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert (body["outcome"], body["version"]) == ("created", 1)
    assert body["record"]["headline"] == story.headline
    assert body["record"]["canonical_url"] == canonical(story)
    assert body["dropped"] and body["notes"]
    stored = await store.get(body["id"])
    assert stored is not None and stored.language == "ar" and stored.sections == ("global",)
    again = await client.post(
        "/api/import/page?section=global", data=page, headers={**editor, **HTML}
    )
    assert again.status == 200
    assert (await again.json())["outcome"] == "unchanged"


async def test_the_seed_page_as_text_links_a_stored_story(
    client: TestClient[Any, Any], editor: dict[str, str], store: Store
) -> None:
    await store.put(record("ayodhya", headline=AYODHYA, sections=["india"]), now=datetime.now(UTC))
    resp = await client.post(
        "/api/import/page?language=hi&published=2024-06-19T20:15:00%2B05:30",
        data=seed_page().encode(),
        headers={**editor, **TEXT},
    )
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["record"]["sections"] == ["global", "top-story"]
    assert body["record"]["published"] == "2024-06-19T20:15:00+05:30"
    assert body["record"]["related"][0] == {
        "title": AYODHYA,
        "url": "https://news.example/india/ayodhya",
    }
    assert body["section_hints"] == ["global", "top-story"]


async def test_a_dry_run_stores_nothing(
    client: TestClient[Any, Any], editor: dict[str, str], store: Store
) -> None:
    resp = await client.post(
        "/api/import/page?section=global&dry_run=1",
        data=html_page(STORIES["hi"], "plain").encode(),
        headers={**editor, **HTML},
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["outcome"] == "valid" and "version" not in body
    assert await store.get(body["id"]) is None


async def test_what_is_refused_and_why(
    client: TestClient[Any, Any], editor: dict[str, str], store: Store
) -> None:
    page = html_page(STORIES["en"], "meta").encode()
    resp = await client.post("/api/import/page", data=page, headers=HTML)
    await error_body(resp, 401)
    metrics = auth_header(await create_token(store, "metrics"))
    await error_body(
        await client.post("/api/import/page", data=page, headers={**metrics, **HTML}), 403
    )
    resp = await client.post(
        "/api/import/page", data=b"{}", headers={**editor, "Content-Type": "application/json"}
    )
    assert "text/html" in (await error_body(resp, 415))[0]["message"]
    resp = await client.post(
        "/api/import/page?section=nope&published=yesterday&url=ftp://x",
        data=page,
        headers={**editor, **HTML},
    )
    errors = await error_body(resp, 422)
    assert [e["path"] for e in errors] == ["/sections/0", "/canonical_url", "/published"]
    resp = await client.post(
        "/api/import/page?section=global", data=b"Just a headline", headers={**editor, **TEXT}
    )
    errors = await error_body(resp, 422)
    assert errors == [
        {"path": "/body_html", "message": "no body text could be extracted from the page"}
    ]


async def test_sections_repeat_and_the_first_keys_the_id(
    client: TestClient[Any, Any], editor: dict[str, str], store: Store
) -> None:
    page = seed_page().encode()
    resp = await client.post(
        "/api/import/page?section=india&section=business&section=india",
        data=page,
        headers={**editor, **TEXT},
    )
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["record"]["sections"] == ["india", "business"]
    stored = await store.get(body["id"])
    assert stored is not None and stored.sections == ("india", "business")
    refused = await client.post(
        "/api/import/page?section=india&section=nope", data=page, headers={**editor, **TEXT}
    )
    errors = await error_body(refused, 422)
    assert [e["path"] for e in errors] == ["/sections/1"]
