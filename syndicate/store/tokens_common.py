"""The token rules both stores share: what a new token is made of; the backends only store it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NotRequired, TypedDict, Unpack

from syndicate.core.model import Role, Token


class TokenGrant(TypedDict):
    """`Store.add_token`'s keyword arguments, declared once for both backends."""

    name: str
    role: Role
    token_hash: str
    sections: NotRequired[Sequence[str]]  # a partner's licensed sections
    embargoed: NotRequired[bool]  # a partner that gets embargoed items early
    now: datetime
    expires: NotRequired[datetime | None]  # None: until revoked


class TokenGrants:
    """`add_token` for a store whose tokens mixin stores a `Token` with `_insert_token`."""

    async def add_token(self, **grant: Unpack[TokenGrant]) -> Token:
        token = Token(
            0,  # the store numbers it
            grant["name"],
            grant["role"],
            tuple(grant.get("sections", ())),
            grant.get("embargoed", False),
            grant["token_hash"],
            created=grant["now"],
            expires=grant.get("expires"),
        )
        return await self._insert_token(token)

    async def _insert_token(self, token: Token) -> Token:
        """Store `token`; the stored token, numbered."""
        raise NotImplementedError
