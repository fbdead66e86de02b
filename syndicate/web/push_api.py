"""Push destinations for `admin` tokens: list, add, remove and replay over `/api/push`.

The same operations as `syndicate partner push …`. A destination's signing secret is shown
once, in the answer that made it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from syndicate.core.errors import FieldError, InvalidRequest
from syndicate.service.push import DestinationError, describe, replay, subscribe
from syndicate.web.api import json_body
from syndicate.web.auth import require
from syndicate.web.changes import destinations_changed
from syndicate.web.keys import CLOCK, STORE
from syndicate.web.responses import json_response


async def list_destinations(request: web.Request) -> web.Response:
    await require(request, "admin")
    store = request.app[STORE]
    names = {t.id: t.name for t in await store.list_tokens()}
    found = [describe(d, names.get(d.token_id)) for d in await store.destinations()]
    return json_response({"destinations": found})


def _fields(body: Any) -> tuple[str, str, str, tuple[str, ...]]:
    if not isinstance(body, dict):
        raise InvalidRequest([FieldError("", "expected a JSON object")])
    errors = [FieldError(f"/{k}", "unknown field") for k in sorted(set(body) - _ADD_FIELDS)]
    for name in ("partner", "url", "format"):
        if not isinstance(body.get(name), str) or not body[name]:
            errors.append(FieldError(f"/{name}", "required, a string"))
    sections = body.get("sections", [])
    if not isinstance(sections, list) or not all(isinstance(s, str) for s in sections):
        errors.append(FieldError("/sections", "a list of section slugs"))
    if errors:
        raise InvalidRequest(errors)
    return body["partner"], body["url"], body["format"], tuple(sections)


_ADD_FIELDS = {"partner", "url", "format", "sections"}


async def add_destination(request: web.Request) -> web.Response:
    await require(request, "admin")
    partner, url, fmt, sections = _fields(await json_body(request))
    try:
        made = await subscribe(
            request.app[STORE], partner, url, fmt, sections, now=request.app[CLOCK]()
        )
    except DestinationError as exc:
        raise InvalidRequest([FieldError(f"/{exc.field}", str(exc))]) from None
    destinations_changed(request.app)
    return json_response({**describe(made, partner), "secret": made.secret}, 201)


async def remove_destination(request: web.Request) -> web.Response:
    await require(request, "admin")
    destination = request.match_info["id"]
    await request.app[STORE].remove_destination(destination, now=request.app[CLOCK]())
    return json_response({"id": destination, "removed": True})


async def replay_destination(request: web.Request) -> web.Response:
    await require(request, "admin")
    body = await json_body(request) if request.can_read_body else {}
    since = body.get("since") if isinstance(body, dict) else None
    if since is not None and not isinstance(since, str):
        raise InvalidRequest([FieldError("/since", "a cursor from X-Syndicate-Cursor")])
    position = await replay(request.app[STORE], request.match_info["id"], since)
    destinations_changed(request.app)
    return json_response({"id": request.match_info["id"], "from_start": position == 0})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/push", list_destinations, allow_head=False)
    app.router.add_post("/api/push", add_destination)
    app.router.add_delete("/api/push/{id}", remove_destination)
    app.router.add_post("/api/push/{id}/replay", replay_destination)
