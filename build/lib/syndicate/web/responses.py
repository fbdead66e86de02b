"""JSON and fixed-body responses shared by the handlers and the error middleware."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from syndicate.web.caching import (
    caching_headers,
    not_modified,
    not_modified_response,
    public,
    strong_etag,
)


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """UTF-8 JSON, non-ASCII text written as itself (Devanagari stays readable)."""
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def fixed(
    body: Callable[[web.Request], bytes], content_type: str, max_age: int
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler answering bytes made once (index page, OPML, stylesheet): cacheable, with a
    strong ETag and 304s, like the feeds."""
    etags: dict[bytes, str] = {}  # bytes cache their hash: the lookup is cheap
    cache_control = public(max_age)

    async def handler(request: web.Request) -> web.Response:
        data = body(request)
        etag = etags.get(data)
        if etag is None:
            etag = etags[data] = strong_etag(data)
        headers = caching_headers(etag, cache_control)
        if not_modified(request, etag):
            return not_modified_response(headers)
        headers["Content-Type"] = content_type
        return web.Response(body=data, headers=headers)

    return handler
