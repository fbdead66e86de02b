"""Token management for `admin` tokens: list, create, revoke and rotate over `/api/tokens`.

The same operations as `syndicate token …`, for a desk or a partner portal that cannot run
the command line; the desk's token forms call `check_grants`, `issue_token` and `rotate`
here. A secret is shown once, in the answer that made it; only its hash is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from aiohttp import web

from syndicate.core.config import Settings
from syndicate.core.errors import Conflict, FieldError, InvalidRequest
from syndicate.core.model import ROLES, Role, Token
from syndicate.core.tokens import MAX_NAME_LENGTH, new_token, parse_duration
from syndicate.store.base import Store
from syndicate.web.api import json_body
from syndicate.web.auth import require
from syndicate.web.keys import CLOCK, SETTINGS, STORE
from syndicate.web.responses import json_response


def describe(token: Token) -> dict[str, Any]:
    """What may be shown of a token: its grants and times, never the secret or its hash."""

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "name": token.name,
        "role": token.role,
        "sections": list(token.sections),
        "embargoed": token.embargoed,
        "created": when(token.created),
        "expires": when(token.expires),
        "last_used": when(token.last_used),
    }


async def list_tokens(request: web.Request) -> web.Response:
    await require(request, "admin")
    tokens = await request.app[STORE].list_tokens()
    return json_response({"tokens": [describe(t) for t in tokens]})


@dataclass(frozen=True, slots=True)
class Grants:
    """What a new token may do, checked: the API's JSON body and the desk's form both give it."""

    name: str
    role: Role
    sections: list[str]
    embargoed: bool
    expires_in: str | None  # `30d`, `12h`, …; None: until revoked


def check_grants(settings: Settings, body: Any) -> Grants:
    """The grants a create request asks for, or `InvalidRequest` naming each bad field."""
    errors: list[FieldError] = []
    if not isinstance(body, dict):
        raise InvalidRequest([FieldError("", "expected a JSON object")])
    unknown = sorted(set(body) - {"name", "role", "sections", "embargoed", "expires_in"})
    errors += [FieldError(f"/{k}", "unknown field") for k in unknown]
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        errors.append(FieldError("/name", f"a name of 1 to {MAX_NAME_LENGTH} characters"))
    elif not name.isprintable():
        errors.append(FieldError("/name", "must not contain control characters"))
    role = body.get("role")
    if role not in ROLES:
        errors.append(FieldError("/role", f"one of {', '.join(ROLES)}"))
    sections = body.get("sections", [])
    embargoed = body.get("embargoed", False)
    if not isinstance(sections, list) or not all(isinstance(s, str) for s in sections):
        errors.append(FieldError("/sections", "a list of section slugs"))
        sections = []
    for n, slug in enumerate(sections):
        if settings.section(slug) is None:
            errors.append(FieldError(f"/sections/{n}", f"no such section: {slug!r}"))
    if not isinstance(embargoed, bool):
        errors.append(FieldError("/embargoed", "true or false"))
    if role == "partner" and not sections:
        errors.append(FieldError("/sections", "a partner token needs at least one section"))
    if role != "partner" and (sections or embargoed is True):
        errors.append(FieldError("/sections", "sections and embargoed are for partner tokens"))
    expires_in = body.get("expires_in")
    if expires_in is not None:
        try:
            parse_duration(expires_in if isinstance(expires_in, str) else "")
        except ValueError as exc:
            errors.append(FieldError("/expires_in", str(exc)))
    if errors:
        raise InvalidRequest(errors)
    # The role was checked against ROLES above.
    return Grants(str(name), cast(Role, role), list(sections), bool(embargoed), expires_in)


async def issue_token(store: Store, grants: Grants, *, now: datetime) -> tuple[Token, str]:
    """Store a new token; (the token, its secret: shown once). `Conflict` if the name is taken."""
    if any(t.name == grants.name for t in await store.list_tokens()):
        raise Conflict(f"a token named {grants.name!r} exists: rotate it, or revoke it first")
    expires = now + parse_duration(grants.expires_in) if grants.expires_in else None
    secret, digest = new_token()
    token = await store.add_token(
        name=grants.name,
        role=grants.role,
        token_hash=digest,
        sections=grants.sections,
        embargoed=grants.embargoed,
        now=now,
        expires=expires,
    )
    return token, secret


async def rotate(store: Store, name: str, *, now: datetime) -> tuple[Token, str]:
    """A new secret for the live token `name` (the old one is refused from now on)."""
    secret, digest = new_token()
    return await store.rotate_token(name, digest, now=now), secret


async def create_token(request: web.Request) -> web.Response:
    await require(request, "admin")
    grants = check_grants(request.app[SETTINGS], await json_body(request))
    token, secret = await issue_token(request.app[STORE], grants, now=request.app[CLOCK]())
    return json_response({**describe(token), "secret": secret}, 201)


async def revoke_token(request: web.Request) -> web.Response:
    await require(request, "admin")
    name = request.match_info["name"]
    count = await request.app[STORE].revoke_tokens(name, now=request.app[CLOCK]())
    return json_response({"name": name, "revoked": count})


async def rotate_token(request: web.Request) -> web.Response:
    await require(request, "admin")
    name = request.match_info["name"]
    token, secret = await rotate(request.app[STORE], name, now=request.app[CLOCK]())
    return json_response({**describe(token), "secret": secret})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/tokens", list_tokens, allow_head=False)
    app.router.add_post("/api/tokens", create_token)
    app.router.add_delete("/api/tokens/{name}", revoke_token)
    app.router.add_post("/api/tokens/{name}/rotate", rotate_token)
