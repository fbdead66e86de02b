"""Bearer-token checks (editor, partner, metrics, admin): 401 without a valid, live token
(revoked or expired ones are refused on the next request, on every process: each request
looks its token up), 403 for the wrong role.

Roles do not nest: each endpoint names the roles it takes (`/metrics` takes metrics and
admin), so no token opens another's endpoints. Last use is recorded in memory and written
in one batch every few seconds, not once a request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from aiohttp import web

from syndicate.core.errors import Forbidden, Unauthorized
from syndicate.core.model import Role, Token
from syndicate.core.tokens import hash_token, same_hash
from syndicate.store.base import Store
from syndicate.web.keys import CLOCK, STORE

log = logging.getLogger(__name__)


class TokenUse:
    """When each token was last used, written to the store in batches."""

    def __init__(self) -> None:
        self._seen: dict[int, datetime] = {}

    def seen(self, token: Token, when: datetime) -> None:
        self._seen[token.id] = when

    async def flush(self, store: Store) -> None:
        batch, self._seen = self._seen, {}
        try:
            await store.touch_tokens(batch)
        except Exception as exc:  # the database away: keep them for the next round
            log.warning("cannot record token use: %s", exc)
            self._seen = batch | self._seen


USE = web.AppKey("token_use", TokenUse)
FLUSH_SECONDS = 5.0


def setup(app: web.Application) -> None:
    app[USE] = TokenUse()

    async def flushing(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(FLUSH_SECONDS)
                await app[USE].flush(app[STORE])

        task = asyncio.ensure_future(loop())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await app[USE].flush(app[STORE])

    app.cleanup_ctx.append(flushing)


async def require(request: web.Request, role: Role, *also: Role) -> Token:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    secret = secret.strip()
    # Every token is ASCII; header bytes that are not UTF-8 arrive as surrogates, which
    # cannot even be hashed. Either way, not a token of ours.
    if not secret.isascii():
        raise Unauthorized("the token is not valid")
    digest = hash_token(secret)
    token = await request.app[STORE].find_token(digest)
    # Found through a unique index on the hash; the final check is constant-time.
    if token is None or not same_hash(token.token_hash, digest):
        raise Unauthorized("the token is not valid")
    now = request.app[CLOCK]()
    if token.expired(now):
        raise Unauthorized("the token has expired")
    if token.role != role and token.role not in also:
        raise Forbidden(f"this endpoint needs a {' or '.join((role, *also))} token")
    use = request.app.get(USE)
    if use is not None:
        use.seen(token, now)
    return token
