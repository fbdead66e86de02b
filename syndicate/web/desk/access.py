"""The desk's admin forms for who has access to what: create and rotate tokens, add, remove and
replay partners' push destinations. Each calls what `/api/tokens` and `/api/push` call
(`web/tokens_api.py`, `syndicate/service/push/`), so the checks, errors and secrets are theirs.
A secret is shown once, on the page that answers the form that made it; editors see the
tokens page but change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from syndicate.core.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    InvalidRequest,
    NotFound,
)
from syndicate.core.model import ROLES, DeskSession
from syndicate.service.push import MEDIA_TYPES, DestinationError, replay, subscribe
from syndicate.web.changes import destinations_changed
from syndicate.web.desk.common import redirect, render, signed_in
from syndicate.web.desk.session import Form, checked_form
from syndicate.web.keys import CLOCK, SETTINGS, STORE
from syndicate.web.tokens_api import check_grants, describe, issue_token, rotate

ROLE_HINTS = {
    "editor": "writes and imports articles, regenerates, signs in to the desk",
    "partner": "pulls (and is pushed) its sections",
    "admin": "manages tokens and push destinations",
    "metrics": "scrapes /metrics",
}
TOKEN_LABELS = {
    "name": "Name",
    "role": "Role",
    "sections": "Sections",
    "embargoed": "Embargoed items early",
    "expires_in": "Expires after",
}
PUSH_LABELS = {
    "partner": "Partner",
    "url": "URL",
    "format": "Format",
    "sections": "Sections",
    "since": "Cursor",
}


def require_admin(session: DeskSession) -> None:
    if session.token.role != "admin":
        raise Forbidden("only an admin token may change tokens and push destinations")


def _one(form: Form, name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def place(errors: list[FieldError], labels: dict[str, str]) -> dict[str, list[str]]:
    """Messages by form field (the pointer's first step); the rest under "" (above the form)."""
    placed: dict[str, list[str]] = {}
    for error in errors:
        head = error.path.split("/")[1] if error.path.startswith("/") else ""
        if head in labels:
            placed.setdefault(head, []).append(error.message)
        else:
            where = f"{error.path}: " if error.path else ""
            placed.setdefault("", []).append(where + error.message)
    return placed


# -- tokens -------------------------------------------------------------------------------------
def _token_values(form: Form | None) -> dict[str, Any]:
    form = form or {}
    return {
        "name": _one(form, "name"),
        "role": _one(form, "role"),
        "sections": [s for s in form.get("sections", []) if s],
        "embargoed": _one(form, "embargoed") == "yes",
        "expires_in": _one(form, "expires_in"),
    }


async def _admin_form(
    request: web.Request,
    kind: str,
    values: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> web.Response:
    """An admin's form (`token` or `push`) with its values and the errors beside their fields."""
    context: dict[str, Any] = {
        "nav": "tokens",
        "values": values,
        "errors": errors or {},
        "sections": request.config_dict[SETTINGS].sections,
    }
    if kind == "push":
        tokens = await request.config_dict[STORE].list_tokens()
        partners = [t for t in tokens if t.role == "partner"]
        context |= {"labels": PUSH_LABELS, "partners": partners, "formats": sorted(MEDIA_TYPES)}
    else:
        context |= {"labels": TOKEN_LABELS, "roles": ROLES, "role_hints": ROLE_HINTS}
    return await render(request, f"{kind}_new.html", context, status)


async def new_token(request: web.Request) -> web.Response:
    require_admin(await signed_in(request))
    return await _admin_form(request, "token", _token_values(None))


async def _admin_values(
    request: web.Request, values_of: Callable[[Form | None], dict[str, Any]]
) -> dict[str, Any]:
    """An admin's form, its CSRF checked: its values as `values_of` reads them."""
    session, form = await checked_form(request)
    require_admin(session)
    return values_of(form)


async def create_token(request: web.Request) -> web.Response:
    values = await _admin_values(request, _token_values)
    body = {k: v for k, v in values.items() if k != "expires_in"}
    if values["expires_in"]:
        body["expires_in"] = values["expires_in"]
    store = request.config_dict[STORE]
    try:
        grants = check_grants(request.config_dict[SETTINGS], body)
        token, secret = await issue_token(store, grants, now=request.config_dict[CLOCK]())
    except InvalidRequest as exc:
        return await _admin_form(request, "token", values, place(exc.errors, TOKEN_LABELS), 422)
    except Conflict as exc:
        return await _admin_form(request, "token", values, {"name": [exc.message]}, 409)
    shown = describe(token)
    return await _secret(request, f"Token created: {token.name}", secret, shown, status=201)


async def rotate_token(request: web.Request) -> web.Response:
    session, _ = await checked_form(request)
    require_admin(session)
    name = request.match_info["name"]
    token, secret = await rotate(request.config_dict[STORE], name, now=request.config_dict[CLOCK]())
    return await _secret(request, f"New secret for {token.name}", secret, describe(token))


async def _secret(
    request: web.Request,
    heading: str,
    secret: str,
    shown: dict[str, Any],
    *,
    signing: bool = False,
    status: int = 200,
) -> web.Response:
    context = {"heading": heading, "secret": secret, "shown": shown, "signing": signing}
    return await render(request, "secret.html", {"nav": "tokens", **context}, status)


# -- push destinations --------------------------------------------------------------------------
def _push_values(form: Form | None) -> dict[str, Any]:
    form = form or {}
    values: dict[str, Any] = {k: _one(form, k) for k in ("partner", "url", "format")}
    values["sections"] = [s for s in form.get("sections", []) if s]
    return values


async def new_destination(request: web.Request) -> web.Response:
    require_admin(await signed_in(request))
    return await _admin_form(request, "push", _push_values(None))


async def add_destination(request: web.Request) -> web.Response:
    values = await _admin_values(request, _push_values)
    store = request.config_dict[STORE]
    try:
        made = await subscribe(
            store,
            values["partner"],
            values["url"],
            values["format"],
            tuple(values["sections"]),
            now=request.config_dict[CLOCK](),
        )
    except DestinationError as exc:
        return await _admin_form(request, "push", values, {exc.field: [str(exc)]}, 422)
    except NotFound as exc:
        return await _admin_form(request, "push", values, {"partner": [exc.message]}, 422)
    shown = {
        "id": made.id,
        "partner": values["partner"],
        "url": made.url,
        "format": made.format,
        "sections": list(made.sections),
    }
    destinations_changed(request.config_dict)
    heading = f"Push destination added for {values['partner']}"
    return await _secret(request, heading, made.secret, shown, signing=True, status=201)


async def _destination(request: web.Request) -> Any:
    wanted = request.match_info["id"]
    for destination in await request.config_dict[STORE].destinations():
        if destination.id == wanted:
            return destination
    raise NotFound(f"no push destination {wanted[:80]!r}")


async def remove_destination(request: web.Request) -> web.Response:
    session, _ = await checked_form(request)
    require_admin(session)
    destination = request.match_info["id"]
    await request.config_dict[STORE].remove_destination(
        destination, now=request.config_dict[CLOCK]()
    )
    return redirect(f"/desk/tokens?removed={quote(destination)}")


async def _replay_form(
    request: web.Request, since: str, errors: dict[str, list[str]] | None = None, status: int = 200
) -> web.Response:
    destination = await _destination(request)
    names = {t.id: t.name for t in await request.config_dict[STORE].list_tokens()}
    return await render(
        request,
        "push_replay.html",
        {
            "nav": "tokens",
            "destination": destination,
            "partner": names.get(destination.token_id),
            "values": {"since": since},
            "errors": errors or {},
            "labels": PUSH_LABELS,
        },
        status,
    )


async def replay_page(request: web.Request) -> web.Response:
    require_admin(await signed_in(request))
    return await _replay_form(request, "")


async def replay_destination(request: web.Request) -> web.Response:
    session, form = await checked_form(request)
    require_admin(session)
    since = _one(form, "since")
    destination = request.match_info["id"]
    try:
        await replay(request.config_dict[STORE], destination, since or None)
    except BadRequest as exc:
        # The cursor's own words are for pulls ("pull again without `since`"): say the desk's.
        why = exc.message.removeprefix("cursor: ").split(";")[0]
        message = f"{why}; leave it empty to replay everything from the start"
        return await _replay_form(request, since, {"since": [message]}, 422)
    destinations_changed(request.config_dict)
    return redirect(f"/desk/tokens?replayed={quote(destination)}")
