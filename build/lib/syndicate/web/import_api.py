"""`POST /api/import/page`: an editor sends a scraped page (HTML or plain text) and gets the
article it became; the same path as `syndicate import page` (`syndicate.imports`)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from syndicate.errors import FieldError, InvalidArticle, InvalidRequest, UnsupportedMediaType
from syndicate.importing.fields import http_url, parse_date
from syndicate.importing.page import MAX_PAGE_BYTES, PageKind, decode
from syndicate.imports import PageOptions, import_page
from syndicate.web.api import _changed, _count_ingest
from syndicate.web.auth import require
from syndicate.web.keys import SCHEDULER, SETTINGS, STORE
from syndicate.web.responses import json_response

_KINDS: dict[str, PageKind] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
}
_TRUE = ("1", "true", "yes")


def _options(request: web.Request) -> PageOptions:
    """The query parameters, each checked and named by the record field it fills."""
    settings = request.app[SETTINGS]
    query = request.query
    errors: list[FieldError] = []
    section = query.get("section") or None
    if section is not None and settings.section(section) is None:
        declared = ", ".join(settings.section_slugs) or "none"
        errors.append(
            FieldError("/sections/0", f"section {section!r} is not declared ({declared})")
        )
    url = query.get("url") or None
    if url is not None and http_url(url) != url:
        errors.append(FieldError("/canonical_url", f"url {url!r} is not an absolute http(s) URL"))
    published = None
    if text := query.get("published"):
        published, note = parse_date(text)
        if published is None or note is not None:
            errors.append(
                FieldError("/published", f"published {text!r} must be RFC 3339 with an offset")
            )
    if errors:
        raise InvalidRequest(errors)
    return PageOptions(section, query.get("language") or None, url, published)


async def import_page_handler(request: web.Request) -> web.Response:
    await require(request, "editor")
    kind = _KINDS.get(request.content_type)
    if kind is None:
        raise UnsupportedMediaType(
            "expected Content-Type: text/html, application/xhtml+xml or text/plain, "
            f"got {request.content_type or 'none'}"
        )
    options = _options(request)
    dry_run = request.query.get("dry_run", "").lower() in _TRUE
    data = await request.read()
    if len(data) > MAX_PAGE_BYTES:
        raise InvalidRequest(
            [FieldError("", f"the page is {len(data)} bytes, at most {MAX_PAGE_BYTES}")]
        )
    text = decode(data, request.charset)
    store = None if dry_run else request.app[STORE]
    result = await import_page(
        "request", text, kind, request.app[SETTINGS], store, options, now=datetime.now(UTC)
    )
    if result.outcome == "rejected":
        _count_ingest(request, "rejected")
        raise InvalidArticle(result.errors)
    if result.outcome in ("created", "updated"):
        _count_ingest(request, result.outcome)
        scheduler = request.app.get(SCHEDULER)
        if scheduler is not None and result.record is not None:
            from syndicate.model import parse_time

            scheduler.article_stored(parse_time(result.record["published"]))
        _changed(request)
    elif result.outcome == "unchanged":
        _count_ingest(request, "unchanged")
    body = result.as_dict()
    del body["source"], body["position"]
    return json_response(body, 201 if result.outcome == "created" else 200)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/import/page", import_page_handler)
