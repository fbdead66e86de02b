"""Push destinations: where a partner is pushed to (an https endpoint, a format, sections
among its entitlements, a signing secret), adding and replaying them. Delivery is `delivery`.
"""

from __future__ import annotations

import ipaddress
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from syndicate.core.cursor import CURSOR_KEY_NAME, KEY_BYTES, CursorKey
from syndicate.core.errors import NotFound
from syndicate.core.model import Destination, Token
from syndicate.store.base import Store

MEDIA_TYPES = {
    "newsml": "application/vnd.iptc.g2.newsitem+xml; charset=utf-8",
    "ninjs": "application/json; charset=utf-8",
}


class DestinationError(ValueError):
    """A destination that cannot be made, naming the field at fault (`url`, `format`, …)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_url(url: str) -> str:
    """A destination URL: https, or http to this machine only (tests, a local relay)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # an unclosed IPv6 bracket, a port that is no number
        parts, host = urlsplit(""), None
    if parts.scheme not in ("https", "http") or not host:
        raise DestinationError("url", f"{url!r}: a destination is an https:// URL")
    if parts.username or parts.password:
        raise DestinationError("url", f"{url!r}: credentials do not belong in the URL")
    if parts.scheme == "http" and not _loopback(host):
        raise DestinationError("url", f"{url!r}: plain http only to loopback; use https")
    return url


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_destination(
    token: Token,
    url: str,
    fmt: str,
    sections: tuple[str, ...],
    *,
    position: int,
    now: datetime,
) -> Destination:
    """A destination for `token`'s partner; sections must be among its entitlements."""
    outside = [s for s in sections if s not in token.sections]
    if token.role != "partner":
        raise DestinationError("partner", f"{token.name!r} is not a partner token")
    if outside:
        raise DestinationError("sections", f"the partner is not entitled to {', '.join(outside)}")
    if fmt not in MEDIA_TYPES:
        raise DestinationError("format", f"format {fmt!r}: newsml or ninjs")
    return Destination(
        id="dst_" + secrets.token_hex(6),
        token_id=token.id,
        url=check_url(url),
        format=fmt,  # type: ignore[arg-type]  # checked above
        sections=sections or token.sections,
        secret="whsec_" + secrets.token_urlsafe(32),
        created=now,
        position=position,
    )


async def subscribe(
    store: Store,
    partner: str,
    url: str,
    fmt: str,
    sections: tuple[str, ...],
    *,
    now: datetime,
) -> Destination:
    """Add a destination for the live partner token named `partner`; pushes start from now
    (what came before, the partner pulls, or an admin replays)."""
    found = [t for t in await store.list_tokens() if t.name == partner and t.role == "partner"]
    if len(found) != 1:
        raise NotFound(f"no partner token named {partner!r}")
    position = await store.max_seq()
    destination = new_destination(found[0], url, fmt, sections, position=position, now=now)
    return await store.add_destination(destination)


async def cursor_key(store: Store) -> CursorKey:
    return CursorKey(await store.service_key(CURSOR_KEY_NAME, KEY_BYTES))


def replay_scope(destination: Destination) -> str:
    """What a destination's cursors are bound to (its id, not a section)."""
    return f"push:{destination.id}"


async def replay(store: Store, destination_id: str, since: str | None) -> int:
    """Deliver again everything after the cursor `since` (a delivery's `X-Syndicate-Cursor`),
    or everything from the start; returns the position it starts after."""
    found = {d.id: d for d in await store.destinations()}
    destination = found.get(destination_id)
    if destination is None:
        raise NotFound(f"no push destination {destination_id!r}")
    position = 0
    if since is not None:
        key = await cursor_key(store)
        position = key.decode(
            since, partner=destination.token_id, section=replay_scope(destination)
        )
    await store.rewind_destination(destination_id, position)
    return position


def describe(destination: Destination, partner: str | None) -> dict[str, Any]:
    """A destination as shown (never its secret)."""
    return {
        "id": destination.id,
        "partner": partner,
        "url": destination.url,
        "format": destination.format,
        "sections": list(destination.sections),
        "created": destination.created.isoformat() if destination.created else None,
    }
