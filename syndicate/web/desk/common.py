"""What every desk page shares: rendering in the desk's layout, redirects, who is signed in,
security headers, and errors as pages (the same status and messages as the API's JSON)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from syndicate.core.errors import Forbidden, StoreError, SyndicateError
from syndicate.core.model import DeskSession
from syndicate.web.desk.session import current
from syndicate.web.keys import CLOCK, SETTINGS

# No inline script or style anywhere: the desk's own files only, never framed, no referrer
# leaving the site, nothing kept by caches (pages show embargoed stories).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SignInFirst(Exception):
    """A page was asked for without a live session: go to the sign-in page."""


async def signed_in(request: web.Request) -> DeskSession:
    session = await current(request)
    if session is None:
        raise SignInFirst
    return session


def require_editor(session: DeskSession) -> None:
    """Writing articles and regenerating are an editor's (roles do not nest, as in the API)."""
    if session.token.role != "editor":
        raise Forbidden("only an editor token may change articles or regenerate sections")


def redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


async def render(
    request: web.Request, template: str, context: Mapping[str, Any], status: int = 200
) -> web.Response:
    try:
        session = await current(request)
    except StoreError:
        session = None  # the database is away: the error page says so, without a session
    settings = request.config_dict[SETTINGS]
    base = {
        "session": session,
        "csrf": session.csrf if session else "",
        "editor": session is not None and session.token.role == "editor",
        "admin": session is not None and session.token.role == "admin",
        "site_title": settings.site_title,
        "now": request.config_dict[CLOCK](),
        "lang": "en",
        "nav": "",
    }
    return aiohttp_jinja2.render_template(
        f"desk/{template}", request, {**base, **context}, status=status
    )


@web.middleware
async def desk_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except SignInFirst:
        response = redirect("/desk/sign-in")
    except SyndicateError as exc:
        response = await render(
            request, "error.html", {"status": exc.status, "errors": exc.errors}, exc.status
        )
        if isinstance(exc, StoreError):
            response.headers["Retry-After"] = str(exc.retry_after)
    except web.HTTPException as exc:
        if exc.status < 400:
            response = web.Response(status=exc.status, headers=exc.headers)
        else:
            limit = request.config_dict[SETTINGS].max_request_bytes
            message = {
                404: "There is no such page.",
                405: "Not allowed here.",
                413: f"Too large: this service takes at most {limit // 1024} KB a form, "
                "files included.",
            }.get(exc.status, exc.reason)
            errors = [{"path": "", "message": message}]
            response = await render(
                request, "error.html", {"status": exc.status, "errors": errors}, exc.status
            )
            if "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
    response.headers.update(SECURITY_HEADERS)
    return response
