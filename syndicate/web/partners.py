"""Partner syndication: NewsML-G2 and ninjs pulls of entitled sections, by cursor.

A pull returns the notices the delivery rule (`syndicate.core.delivery`) gives this partner for
the section's changes after the cursor, oldest first, in bounded pages; the next cursor
travels in `X-Next-Cursor` (and inside the document). Whatever a partner may not see, an
item outside its sections included, answers exactly as an unknown id does, and every number
it is shown advances only with changes it can see.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from syndicate.core.cursor import CURSOR_KEY_NAME, KEY_BYTES, CursorKey, opaque_id
from syndicate.core.delivery import Audience, current, notices_by_seq
from syndicate.core.errors import Forbidden, NotFound
from syndicate.core.model import Notice, Token
from syndicate.render.newsml import render_news_item, render_news_message
from syndicate.render.ninjs import render_ninjs_item, render_ninjs_list
from syndicate.render.partner import PartnerContext
from syndicate.web.auth import require
from syndicate.web.caching import (
    PRIVATE,
    caching_headers,
    not_modified,
    not_modified_response,
    strong_etag,
)
from syndicate.web.keys import CLOCK, SETTINGS, STORE

NEWSML_TYPE = "application/vnd.iptc.g2.newsmessage+xml; charset=utf-8"
NEWSITEM_TYPE = "application/vnd.iptc.g2.newsitem+xml; charset=utf-8"
NINJS_TYPE = "application/json; charset=utf-8"

_CONTEXT = web.AppKey("partner_context", PartnerContext)


class _Keys:
    """The cursor key, read from the store on first use (the store opens after setup)."""

    def __init__(self) -> None:
        self.cursor: CursorKey | None = None


_KEYS = web.AppKey("partner_keys", _Keys)
_EVERY_SEQ = 2**63 - 1  # the newest change has a smaller seq than this


def _entitled(request: web.Request, token: Token, section: str) -> None:
    if request.app[SETTINGS].section(section) is None:
        raise NotFound(f"no such section: {section!r}")
    if not token.may_read(section):
        raise Forbidden(f"this partner is not entitled to section {section!r}")


async def _cursor_key(request: web.Request) -> CursorKey:
    keys = request.app[_KEYS]
    if keys.cursor is None:
        keys.cursor = CursorKey(await request.app[STORE].service_key(CURSOR_KEY_NAME, KEY_BYTES))
    return keys.cursor


async def _pull(request: web.Request) -> tuple[Token, str, list[Notice], str | None, str]:
    """Auth, entitlement, cursor; the notices of the page, the cursor sent and the next one.

    The next cursor moves only when there is news for this partner: a partner that pulls
    again and again must not learn from a changing cursor that changes it cannot see happen.
    """
    token = await require(request, "partner")
    section = request.match_info["section"]
    _entitled(request, token, section)
    store = request.app[STORE]
    key = await _cursor_key(request)
    since = request.query.get("since")
    after = 0 if since is None else key.decode(since, partner=token.id, section=section)
    audience = Audience.of(token)
    limit = request.app[SETTINGS].partner_page_size
    scanned = after
    while True:
        page = await store.changes_since(section, scanned, limit, include_held=True)
        if not page:
            break
        scanned = page[-1].seq
        histories = await store.histories(sorted({c.article.id for c in page}), scanned)
        told = notices_by_seq(histories, audience)
        found = [told[c.seq] for c in page if c.seq in told]
        # A full page the partner may not see must not answer 204 ("nothing new") while
        # news for it waits behind: read on. Each round moves past `limit` changes.
        if found:
            return (
                token,
                section,
                found,
                since,
                key.encode(scanned, partner=token.id, section=section),
            )
        if len(page) < limit:
            break
    unchanged = since if since is not None else key.encode(0, partner=token.id, section=section)
    return token, section, [], since, unchanged


def _headers(etag: str, cursor: str) -> dict[str, str]:
    headers = caching_headers(etag, PRIVATE, vary="Authorization")
    headers["X-Next-Cursor"] = cursor
    return headers


def _page_etag(kind: str, token: Token, since: str | None, cursor: str) -> str:
    # The bytes carry the time they were sent, so the tag names the page, not the bytes.
    # Cursors are sealed; the tag is made of them, so it tells nothing they do not.
    view = "embargoed" if token.embargoed else "public"
    return 'W/"' + opaque_id(kind, view, since or "", cursor) + '"'


async def _section_pull(
    request: web.Request,
    kind: str,
    render: Callable[[PartnerContext, list[Notice], datetime, str, bool], bytes],
    media_type: str,
) -> web.Response:
    token, _, found, since, cursor = await _pull(request)
    etag = _page_etag(kind, token, since, cursor)
    headers = _headers(etag, cursor)
    if not found:
        # A newsMessage cannot hold an empty itemSet: nothing new is 204, cursor unchanged.
        return web.Response(status=204, headers=headers)
    if not_modified(request, etag):
        return not_modified_response(headers)
    body = render(request.app[_CONTEXT], found, request.app[CLOCK](), cursor, token.embargoed)
    headers["Content-Type"] = media_type
    return web.Response(body=body, headers=headers)


def _newsml(
    ctx: PartnerContext, found: list[Notice], now: datetime, cursor: str, embargoed: bool
) -> bytes:
    return render_news_message(
        ctx,
        found,
        sent=now,
        # Names the page without numbers: the change log's seqs count every section.
        transmit_id=opaque_id("transmit", cursor),
        next_cursor=cursor,
        embargoed_view=embargoed,
    )


def _ninjs(
    ctx: PartnerContext, found: list[Notice], now: datetime, cursor: str, embargoed: bool
) -> bytes:
    return render_ninjs_list(ctx, found, now=now, next_cursor=cursor, embargoed_view=embargoed)


async def newsml_section(request: web.Request) -> web.Response:
    return await _section_pull(request, "newsml", _newsml, NEWSML_TYPE)


async def ninjs_section(request: web.Request) -> web.Response:
    return await _section_pull(request, "ninjs", _ninjs, NINJS_TYPE)


async def _item(request: web.Request) -> tuple[Token, Notice]:
    """What this partner may see of the article now, by the one delivery rule.

    Never seen by this partner (outside its sections, held, withdrawn before it had it) is
    the same 404 as an id that does not exist: nothing tells which ids exist elsewhere.
    """
    token = await require(request, "partner")
    article_id = request.match_info["id"]
    histories = await request.app[STORE].histories([article_id], _EVERY_SEQ)
    shown = current(histories[article_id], Audience.of(token), request.app[CLOCK]())
    if shown is None:
        raise NotFound(f"no article with id {article_id!r}")
    return token, shown


async def newsml_item(request: web.Request) -> web.Response:
    token, shown = await _item(request)
    body = render_news_item(request.app[_CONTEXT], shown, embargoed_view=token.embargoed)
    return _item_response(request, body, NEWSITEM_TYPE)


async def ninjs_item(request: web.Request) -> web.Response:
    _, shown = await _item(request)
    document = render_ninjs_item(
        request.app[_CONTEXT], shown.article, held=shown.held, pubstatus=shown.pubstatus
    )
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _item_response(request, body, NINJS_TYPE)


def _item_response(request: web.Request, body: bytes, media_type: str) -> web.Response:
    # An item's bytes carry no clock, so the tag is strong: a hash of the bytes.
    etag = strong_etag(body)
    headers = caching_headers(etag, PRIVATE, vary="Authorization")
    if not_modified(request, etag):
        return not_modified_response(headers)
    headers["Content-Type"] = media_type
    return web.Response(body=body, headers=headers)


def setup(app: web.Application) -> None:
    app[_CONTEXT] = PartnerContext.from_settings(app[SETTINGS])
    app[_KEYS] = _Keys()
    section = r"{section:[a-z0-9][a-z0-9-]{0,63}}"
    item = r"{id:[A-Za-z0-9._-]{1,128}}"
    app.router.add_get(f"/partners/newsml/items/{item}.xml", newsml_item)
    app.router.add_get(f"/partners/ninjs/items/{item}.json", ninjs_item)
    app.router.add_get(f"/partners/newsml/{section}.xml", newsml_section)
    app.router.add_get(f"/partners/ninjs/{section}.json", ninjs_section)
