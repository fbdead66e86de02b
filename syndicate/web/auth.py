"""Bearer-token checks (editor, partner, metrics): 401 without a valid token, 403 wrong role.

Roles do not nest: each endpoint takes exactly one role, so no token opens another's endpoints.
"""

from __future__ import annotations

from aiohttp import web

from syndicate.errors import Forbidden, Unauthorized
from syndicate.model import Role, Token
from syndicate.tokens import hash_token, same_hash
from syndicate.web.keys import STORE


async def require(request: web.Request, role: Role) -> Token:
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
    if token.role != role:
        raise Forbidden(f"this endpoint needs a {role} token")
    return token
