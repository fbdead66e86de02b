"""HTTP caching, written once: strong ETags, caching headers and conditional GET.

The feeds, the fixed pages (index, OPML, stylesheet) and the partner pulls all decide 304s
here; no handler reads If-None-Match or If-Modified-Since itself. No store, no files.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from aiohttp import web

from syndicate.pipeline.served import strong_etag

__all__ = [
    "PRIVATE",
    "caching_headers",
    "etag_matches",
    "not_modified",
    "not_modified_response",
    "public",
    "strong_etag",
]

# Per-partner answers: a shared cache must not keep them, the partner's own revalidates.
PRIVATE = "private, no-cache"


def public(max_age: int) -> str:
    """Cache-Control for what anyone may read: any cache keeps it for `max_age` seconds."""
    return f"public, max-age={max_age}"


def caching_headers(
    etag: str,
    cache_control: str,
    *,
    last_modified: str | None = None,
    vary: str | None = None,
) -> dict[str, str]:
    """The headers a 200 and its 304 share (a 304 must repeat them)."""
    headers = {"ETag": etag}
    if last_modified is not None:
        headers["Last-Modified"] = last_modified
    headers["Cache-Control"] = cache_control
    if vary is not None:
        headers["Vary"] = vary
    return headers


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x"; `*` matches anything."""
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _unchanged_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified <= since


def not_modified(request: web.Request, etag: str, *, last_modified: datetime | None = None) -> bool:
    """Whether the client's copy is current: If-None-Match when sent (If-Modified-Since is
    then ignored), else If-Modified-Since against `last_modified`, when there is one."""
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        return etag_matches(inm, etag)
    if last_modified is None:
        return False
    ims = request.headers.get("If-Modified-Since")
    return ims is not None and _unchanged_since(ims, last_modified)


def not_modified_response(headers: dict[str, str]) -> web.Response:
    """304 with the validators and caching headers of the 200 it stands for, no body."""
    return web.Response(status=304, headers=headers)
