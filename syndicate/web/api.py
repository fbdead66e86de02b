"""Editor API: articles in (one, replace, withdraw, bulk NDJSON), regeneration, the schemas.

`GET /api/status` is in `web/status_api.py`.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from syndicate.core.errors import (
    BadRequest,
    FieldError,
    InvalidArticle,
    NotFound,
    PreconditionFailed,
    UnsupportedMediaType,
)
from syndicate.core.model import Article, PutResult
from syndicate.pipeline.ingest import check_record_async, ingest, parse_ndjson, summarise
from syndicate.validate import ARTICLE_SCHEMA, is_article_id, schema_bytes
from syndicate.web.auth import require
from syndicate.web.changes import article_stored, articles_changed, count_ingest
from syndicate.web.keys import CLOCK, REGENERATOR, SETTINGS, STORE
from syndicate.web.responses import json_response


def _article_response(
    article: Article, status: int = 200, outcome: str | None = None
) -> web.Response:
    body = article.as_record()
    if outcome is not None:
        body = {**body, "outcome": outcome}
    return json_response(body, status, headers={"ETag": f'"{article.version}"'})


async def json_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            f"expected Content-Type: application/json, got {request.content_type or 'none'}"
        )
    raw = await request.read()
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        # A few kilobytes of "[[[[" exhaust the decoder's stack: the client's fault, not a 500.
        raise BadRequest("malformed JSON: nested too deeply") from None


def _count_ingest(request: web.Request, outcome: str, n: int = 1) -> None:
    count_ingest(request.app, outcome, n)


async def _validated(request: web.Request, raw: Any) -> dict[str, Any]:
    """The normalised record, or `InvalidArticle` (counted as a rejection)."""
    record, errors = await check_record_async(raw, request.app[SETTINGS])
    if record is None:
        _count_ingest(request, "rejected")
        raise InvalidArticle(errors)
    return record


def _changed(request: web.Request) -> None:
    articles_changed(request.app)


def _stored(request: web.Request, result: PutResult) -> web.Response:
    """After a put: tell the process (see `web/changes.py`), answer 201 or 200."""
    article_stored(request.app, result)
    status = 201 if result.outcome == "created" else 200
    return _article_response(result.article, status, result.outcome)


async def create_article(request: web.Request) -> web.Response:
    await require(request, "editor")
    raw = await json_body(request)
    record = await _validated(request, raw)
    result = await request.app[STORE].put(record, now=request.app[CLOCK]())
    return _stored(request, result)


async def get_article(request: web.Request) -> web.Response:
    await require(request, "editor")
    article = await request.app[STORE].get(_path_id(request))
    if article is None:
        raise NotFound(f"no article with id {request.match_info['id']!r}")
    return _article_response(article)


def _path_id(request: web.Request) -> str:
    """The URL's article id; one no record can have (NUL, '..') is a 404 before the store."""
    article_id = request.match_info["id"]
    if not is_article_id(article_id):
        # PostgreSQL refuses NUL in text with a driver error: never let it get that far.
        shown = article_id.encode("utf-8", "backslashreplace").decode("utf-8")
        raise NotFound(f"no article with id {shown!r}")
    return article_id


def _if_match(request: web.Request) -> int | None:
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    text = header.strip()
    if text.startswith("W/"):
        # If-Match compares strongly (RFC 9110 13.1.1): a weak tag never matches.
        raise PreconditionFailed(f'If-Match needs a strong ETag like "3", got {header!r}')
    try:
        return int(text.strip('"'))
    except ValueError:
        raise BadRequest(
            f'If-Match must be a version in quotes, like "3"; got {header!r}'
        ) from None


async def replace_article(request: web.Request) -> web.Response:
    await require(request, "editor")
    article_id = request.match_info["id"]
    raw = await json_body(request)
    if isinstance(raw, dict):
        raw.setdefault("id", article_id)
        if raw.get("id") != article_id:
            raise InvalidArticle([FieldError("/id", f"must match the URL's id {article_id!r}")])
    expected = _if_match(request)
    store = request.app[STORE]
    if request.headers.get("If-Match", "").strip() == "*" and await store.get(article_id) is None:
        raise PreconditionFailed(f"article {article_id!r} does not exist")
    record = await _validated(request, raw)
    result = await store.put(record, expected_version=expected, now=request.app[CLOCK]())
    return _stored(request, result)


async def withdraw_article(request: web.Request) -> web.Response:
    await require(request, "editor")
    article = await request.app[STORE].withdraw(_path_id(request), now=request.app[CLOCK]())
    _changed(request)
    return _article_response(article)


async def bulk_articles(request: web.Request) -> web.Response:
    await require(request, "editor")
    if request.content_type not in (
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
    ):
        raise UnsupportedMediaType(
            f"expected Content-Type: application/x-ndjson, got {request.content_type or 'none'}"
        )
    raw = await request.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    results = await ingest(
        parse_ndjson(text), request.app[SETTINGS], request.app[STORE], clock=request.app[CLOCK]
    )
    counts = summarise(results)
    for outcome, n in counts.items():
        if n:
            _count_ingest(request, outcome, n)
    if counts["created"] or counts["updated"]:
        _changed(request)
    return json_response({"summary": counts, "results": [r.as_dict() for r in results]})


async def regenerate(request: web.Request) -> web.Response:
    await require(request, "editor")
    sections: list[str] = []
    if request.can_read_body:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise BadRequest('expected an object like {"sections": ["global"]}')
        value = body.get("sections", [])
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise InvalidArticle([FieldError("/sections", "expected an array of section slugs")])
        sections = value
    results = await request.app[REGENERATOR].regenerate(sections)
    return json_response({"results": [r.as_dict() for r in results]})


async def openapi(request: web.Request) -> web.Response:
    body = schema_bytes("openapi.yaml")
    return web.Response(body=body, content_type="application/yaml", charset="utf-8")


async def article_schema(request: web.Request) -> web.Response:
    # The document refers to `article.schema.json` beside it: served here, it resolves from
    # the document's own URL (schemathesis, client generators).
    body = schema_bytes(ARTICLE_SCHEMA)
    return web.Response(body=body, content_type="application/schema+json", charset="utf-8")


def setup(app: web.Application) -> None:
    app.router.add_post("/api/articles", create_article)
    app.router.add_post("/api/articles/bulk", bulk_articles)
    app.router.add_get("/api/articles/{id}", get_article, allow_head=False)
    app.router.add_put("/api/articles/{id}", replace_article)
    app.router.add_delete("/api/articles/{id}", withdraw_article)
    app.router.add_post("/api/regenerate", regenerate)
    app.router.add_get("/api/openapi.yaml", openapi)
    app.router.add_get("/api/article.schema.json", article_schema)
