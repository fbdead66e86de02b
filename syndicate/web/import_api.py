"""`POST /api/import/page`: an editor sends a scraped page (HTML or plain text) and gets the
article it became; the same path as `syndicate import page` (`syndicate.pipeline.imports`)."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from syndicate.core.config import Settings
from syndicate.core.errors import FieldError, InvalidArticle, InvalidRequest, UnsupportedMediaType
from syndicate.importing.fields import http_url, parse_date
from syndicate.importing.page import MAX_PAGE_BYTES, PageKind, decode
from syndicate.pipeline.imports import PageOptions, import_page
from syndicate.web.auth import require
from syndicate.web.changes import page_imported
from syndicate.web.keys import CLOCK, SETTINGS, STORE
from syndicate.web.responses import json_response

_KINDS: dict[str, PageKind] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
}
_TRUE = ("1", "true", "yes")


def page_options(
    settings: Settings,
    sections: Sequence[str],
    language: str | None,
    url: str | None,
    published: str | None,
) -> PageOptions:
    """What the editor says about a page (the API's parameters, the desk's form fields), each
    checked and named by the record field it fills; `InvalidRequest` otherwise."""
    errors: list[FieldError] = []
    for n, section in enumerate(sections):
        if settings.section(section) is None:
            declared = ", ".join(settings.section_slugs) or "none"
            errors.append(
                FieldError(f"/sections/{n}", f"section {section!r} is not declared ({declared})")
            )
    if url is not None and http_url(url) != url:
        errors.append(FieldError("/canonical_url", f"url {url!r} is not an absolute http(s) URL"))
    when = None
    if published:
        when, note = parse_date(published)
        if when is None or note is not None:
            errors.append(
                FieldError("/published", f"published {published!r} must be RFC 3339 with an offset")
            )
    if errors:
        raise InvalidRequest(errors)
    return PageOptions(tuple(sections), language or None, url, when)


async def import_page_handler(request: web.Request) -> web.Response:
    await require(request, "editor")
    kind = _KINDS.get(request.content_type)
    if kind is None:
        raise UnsupportedMediaType(
            "expected Content-Type: text/html, application/xhtml+xml or text/plain, "
            f"got {request.content_type or 'none'}"
        )
    query = request.query
    options = page_options(
        request.app[SETTINGS],
        [s for s in query.getall("section", []) if s],
        query.get("language") or None,
        query.get("url") or None,
        query.get("published") or None,
    )
    dry_run = request.query.get("dry_run", "").lower() in _TRUE
    data = await request.read()
    if len(data) > MAX_PAGE_BYTES:
        raise InvalidRequest(
            [FieldError("", f"the page is {len(data)} bytes, at most {MAX_PAGE_BYTES}")]
        )
    text = decode(data, request.charset)
    store = None if dry_run else request.app[STORE]
    result = await import_page(
        "request", text, kind, request.app[SETTINGS], store, options, now=request.app[CLOCK]()
    )
    page_imported(request.app, result)
    if result.outcome == "rejected":
        raise InvalidArticle(result.errors)
    body = result.as_dict()
    del body["source"], body["position"]
    return json_response(body, 201 if result.outcome == "created" else 200)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/import/page", import_page_handler)
