"""Desk sessions: sign-in with a token, a server-side session in the store, CSRF, slow-downs.

The cookie carries a random id; the store keeps only its SHA-256 (a stolen database opens no
desk). Every state-changing form carries the session's CSRF token (the sign-in form a
pre-session one, double-submitted), compared in constant time. Failed sign-ins are counted
per client address in this process: from the fifth within a minute on, tries are refused with
429 and `Retry-After` until the oldest of them is a minute old.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict, deque
from datetime import timedelta

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from syndicate.core.errors import BadRequest, Forbidden
from syndicate.core.model import DeskSession, Token
from syndicate.core.tokens import hash_token, same_hash
from syndicate.web.auth import USE
from syndicate.web.keys import CLOCK, SETTINGS, STORE

COOKIE = "syndicate_desk"
SIGN_IN_COOKIE = "syndicate_desk_signin"
DESK_ROLES = ("editor", "admin")
MAX_FAILURES = 5
WINDOW_SECONDS = 60.0


class SignInLimiter:
    """Failed sign-ins per address over the last minute, for a bounded number of addresses."""

    MAX_ADDRESSES = 10_000

    def __init__(self) -> None:
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, address: str, now: float) -> deque[float]:
        found = self._failures.get(address)
        if found is None:
            return deque()
        while found and found[0] <= now - WINDOW_SECONDS:
            found.popleft()
        return found

    def retry_after(self, address: str) -> int:
        """Seconds until this address may try again (0: now)."""
        now = time.monotonic()
        recent = self._recent(address, now)
        if len(recent) < MAX_FAILURES:
            return 0
        return max(1, int(recent[-MAX_FAILURES] + WINDOW_SECONDS - now + 0.999))

    def failed(self, address: str) -> None:
        now = time.monotonic()
        recent = self._recent(address, now)
        recent.append(now)
        self._failures[address] = recent
        self._failures.move_to_end(address)
        while len(self._failures) > self.MAX_ADDRESSES:
            self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)


LIMITER = web.AppKey("desk_sign_in_limiter", SignInLimiter)


# The session found for this request (None: none), looked up once however often it is asked.
_SESSION: web.RequestKey[DeskSession | None] = web.RequestKey("desk_session")


def client_address(request: web.Request) -> str:
    # The peer as the socket reports it: a forwarded-for header is the client's to forge.
    return request.remote or "unknown"


def _secure(request: web.Request) -> bool:
    return request.config_dict[SETTINGS].base_url.startswith("https:")


def set_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        path="/desk/",
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
        max_age=max_age,
    )


def sign_in_csrf(request: web.Request) -> str:
    """The pre-session CSRF value of the sign-in form: the browser's, or a new one."""
    value = request.cookies.get(SIGN_IN_COOKIE, "")
    if len(value) < 32 or len(value) > 100 or not value.isascii():
        value = secrets.token_urlsafe(32)
    return value


def keep_sign_in_csrf(request: web.Request, response: web.StreamResponse, value: str) -> None:
    # Double-submitted: the form's hidden field must equal this cookie, which another site
    # can neither read nor set.
    set_cookie(response, request, SIGN_IN_COOKIE, value, 3600)


def same_secret(given: object, expected: str) -> bool:
    if not isinstance(given, str) or not given.isascii() or not expected:
        return False
    return hmac.compare_digest(given.encode("ascii"), expected.encode("ascii"))


async def check_token(request: web.Request, secret: str) -> Token | str:
    """The live desk token for `secret`, or why it cannot sign in."""
    secret = secret.strip()
    if not secret or not secret.isascii() or len(secret) > 200:
        return "This is not a valid token."
    digest = hash_token(secret)
    token = await request.config_dict[STORE].find_token(digest)
    if token is None or not same_hash(token.token_hash, digest):
        return "This is not a valid token (or it has been revoked)."
    if token.expired(request.config_dict[CLOCK]()):
        return "This token has expired. Ask an admin for a new one."
    if token.role not in DESK_ROLES:
        return f"A {token.role} token cannot sign in to the desk: use an editor token."
    return token


async def start_session(request: web.Request, token: Token, response: web.StreamResponse) -> None:
    session_id = secrets.token_urlsafe(32)
    now = request.config_dict[CLOCK]()
    settings = request.config_dict[SETTINGS]
    await request.config_dict[STORE].add_desk_session(
        session_hash=hash_token(session_id),
        token_id=token.id,
        csrf=secrets.token_urlsafe(32),
        now=now,
        idle_since=now - timedelta(seconds=settings.desk_idle_timeout),
    )
    use = request.config_dict.get(USE)
    if use is not None:
        use.seen(token, now)
    # A session cookie (no Max-Age): the server ends it after the idle time in any case.
    set_cookie(response, request, COOKIE, session_id, None)
    response.del_cookie(SIGN_IN_COOKIE, path="/desk/")


async def current(request: web.Request) -> DeskSession | None:
    """The request's live session: its cookie names one used within the idle time, whose
    token is live (not revoked, not expired) and may use the desk."""
    if _SESSION in request:
        return request[_SESSION]
    session = await _lookup(request)
    request[_SESSION] = session
    return session


async def _lookup(request: web.Request) -> DeskSession | None:
    session_id = request.cookies.get(COOKIE, "")
    if not session_id or len(session_id) > 100 or not session_id.isascii():
        return None
    idle = request.config_dict[SETTINGS].desk_idle_timeout
    now = request.config_dict[CLOCK]()
    store = request.config_dict[STORE]
    session_hash = hash_token(session_id)
    session = await store.find_desk_session(session_hash, idle_since=now - timedelta(seconds=idle))
    if session is None or session.token.expired(now) or session.token.role not in DESK_ROLES:
        return None
    # Written when a good part of the idle time has passed, not on every click.
    if (now - session.last_seen).total_seconds() > min(60.0, idle / 4):
        await store.touch_desk_session(session_hash, now=now)
    return session


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    session = await current(request)
    if session is not None:
        await request.config_dict[STORE].end_desk_session(session.session_hash)
    response.del_cookie(COOKIE, path="/desk/")


Form = dict[str, list[str]]


# A posted form as aiohttp reads it: text fields, and uploads as files.
Posted = MultiDictProxy[str | bytes | bytearray | FileField]


async def checked_post(request: web.Request) -> tuple[DeskSession, Posted]:
    """The posted form (uploads included) of a signed-in desk user, after the CSRF check;
    403 otherwise. Nothing is read from the form, let alone changed, before the check passes.
    """
    session = await current(request)
    try:
        form = await request.post()
    except (ValueError, LookupError, HttpProcessingError) as exc:
        # A body that is no form (a broken multipart boundary, an unknown charset).
        raise BadRequest(f"the form could not be read: {str(exc)[:200]}") from None
    if session is None:
        raise Forbidden("you are not signed in (or your session has ended): sign in again")
    if not same_secret(form.get("csrf"), session.csrf):
        raise Forbidden("this form is missing its security token or it is stale: reload the page")
    return session, form


async def checked_form(request: web.Request) -> tuple[DeskSession, Form]:
    """The posted text fields of a signed-in desk user, after the CSRF check (`checked_post`)."""
    session, form = await checked_post(request)
    fields: Form = {}
    for key, value in form.items():
        if isinstance(value, str):
            fields.setdefault(key, []).append(value)
    return session, fields
