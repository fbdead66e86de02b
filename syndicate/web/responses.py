"""JSON and fixed-body responses shared by the handlers and the error middleware."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web


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
    """A handler answering bytes made once (index page, OPML, stylesheet), cacheable."""
    headers = {"Content-Type": content_type, "Cache-Control": f"public, max-age={max_age}"}

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body(request), headers=headers)

    return handler
