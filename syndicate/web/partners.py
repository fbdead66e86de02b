"""Partner syndication: NewsML-G2 and ninjs pulls of entitled sections, by cursor.

A pull returns the section's changes after the cursor, oldest first, in bounded pages; the
next cursor travels in `X-Next-Cursor` (and inside the document). Held (embargoed or
future-dated) changes reach only partners whose token allows it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web

from syndicate.cursor import decode_cursor, encode_cursor
from syndicate.errors import BadRequest, Forbidden, NotFound
from syndicate.model import Article, Change, Token
from syndicate.render.newsml import render_news_item, render_news_message
from syndicate.render.ninjs import render_ninjs_item, render_ninjs_list
from syndicate.render.partner import PartnerContext, is_held
from syndicate.web.auth import require
from syndicate.web.keys import SETTINGS, STORE

NEWSML_TYPE = "application/vnd.iptc.g2.newsmessage+xml; charset=utf-8"
NEWSITEM_TYPE = "application/vnd.iptc.g2.newsitem+xml; charset=utf-8"
NINJS_TYPE = "application/json; charset=utf-8"

_CONTEXT = web.AppKey("partner_context", PartnerContext)
Clock = Callable[[], datetime]
# What "now" is for embargo checks and the `sent` time. Tests (and a process that must agree
# with another's clock) replace it before the app starts; handlers never call datetime.now.
CLOCK: web.AppKey[Clock] = web.AppKey("partner_clock")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _entitled(request: web.Request, token: Token, section: str) -> None:
    if request.app[SETTINGS].section(section) is None:
        raise NotFound(f"no such section: {section!r}")
    if not token.may_read(section):
        raise Forbidden(f"this partner is not entitled to section {section!r}")


async def _pull(request: web.Request) -> tuple[Token, str, list[Change], int, int]:
    """Auth, entitlement, cursor; the page of changes, where it started and the next seq."""
    token = await require(request, "partner")
    section = request.match_info["section"]
    _entitled(request, token, section)
    store = request.app[STORE]
    after = 0
    since = request.query.get("since")
    if since is not None:
        after = decode_cursor(since)
        if after > await store.max_seq():
            raise BadRequest("cursor: unknown (it points past the newest change)")
    limit = request.app[SETTINGS].partner_page_size
    next_seq = after
    while True:
        page = await store.changes_since(section, next_seq, limit, include_held=token.embargoed)
        if not page:
            return token, section, [], after, next_seq
        next_seq = page[-1].seq
        # Embargo partners saw the held version already; the release is no new content.
        changes = [c for c in page if not (token.embargoed and c.kind == "released")]
        # A full page of nothing but releases must not answer 204 ("nothing new") while
        # newer changes wait behind it: read on. Each round moves past `limit` changes.
        if changes or len(page) < limit:
            return token, section, changes, after, next_seq


def _headers(etag: str, cursor: str) -> dict[str, str]:
    return {
        "ETag": etag,
        "X-Next-Cursor": cursor,
        "Cache-Control": "private, no-cache",
        "Vary": "Authorization",
    }


def _page_etag(kind: str, token: Token, section: str, after: int, next_seq: int) -> str:
    # The bytes carry the time they were sent, so the tag names the page, not the bytes.
    view = "embargoed" if token.embargoed else "public"
    key = f"{kind}:{section}:{view}:{after}:{next_seq}".encode()
    return 'W/"' + hashlib.sha256(key).hexdigest()[:32] + '"'


def _not_modified(request: web.Request, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return header.strip() == "*" or etag.removeprefix("W/") in tags


async def _section_pull(
    request: web.Request,
    kind: str,
    render: Callable[[PartnerContext, list[Change], datetime, str, bool], bytes],
    media_type: str,
) -> web.Response:
    token, section, changes, after, next_seq = await _pull(request)
    cursor = encode_cursor(next_seq)
    etag = _page_etag(kind, token, section, after, next_seq)
    headers = _headers(etag, cursor)
    if not changes:
        # A newsMessage cannot hold an empty itemSet: nothing new is 204, cursor unchanged.
        return web.Response(status=204, headers=headers)
    if _not_modified(request, etag):
        return web.Response(status=304, headers=headers)
    body = render(request.app[_CONTEXT], changes, request.app[CLOCK](), cursor, token.embargoed)
    headers["Content-Type"] = media_type
    return web.Response(body=body, headers=headers)


def _newsml(
    ctx: PartnerContext, changes: list[Change], now: datetime, cursor: str, embargoed: bool
) -> bytes:
    first, last = changes[0].seq, changes[-1].seq
    return render_news_message(
        ctx,
        changes,
        sent=now,
        transmit_id=f"{first}-{last}",
        next_cursor=cursor,
        embargoed_view=embargoed,
    )


def _ninjs(
    ctx: PartnerContext, changes: list[Change], now: datetime, cursor: str, embargoed: bool
) -> bytes:
    return render_ninjs_list(ctx, changes, now=now, next_cursor=cursor, embargoed_view=embargoed)


async def newsml_section(request: web.Request) -> web.Response:
    return await _section_pull(request, "newsml", _newsml, NEWSML_TYPE)


async def ninjs_section(request: web.Request) -> web.Response:
    return await _section_pull(request, "ninjs", _ninjs, NINJS_TYPE)


async def _item(request: web.Request) -> tuple[Token, datetime, Article]:
    token = await require(request, "partner")
    article_id = request.match_info["id"]
    article = await request.app[STORE].get(article_id)
    now = request.app[CLOCK]()
    # Before its release an article does not exist for a plain partner, withdrawn or not
    # (withdrawing a story nobody outside has seen must not reveal it).
    if article is None or (article.release_at > now and not token.embargoed):
        raise NotFound(f"no article with id {article_id!r}")
    if not any(token.may_read(s) for s in article.sections):
        raise Forbidden(f"this partner is not entitled to any section of {article_id!r}")
    return token, now, article


async def newsml_item(request: web.Request) -> web.Response:
    token, now, article = await _item(request)
    body = render_news_item(request.app[_CONTEXT], article, embargoed_view=token.embargoed, now=now)
    return _item_response(request, body, NEWSITEM_TYPE)


async def ninjs_item(request: web.Request) -> web.Response:
    _, now, article = await _item(request)
    held = is_held(article, now)
    document = render_ninjs_item(request.app[_CONTEXT], article, held=held)
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _item_response(request, body, NINJS_TYPE)


def _item_response(request: web.Request, body: bytes, media_type: str) -> web.Response:
    # An item's bytes carry no clock, so the tag is strong: a hash of the bytes.
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization"}
    if _not_modified(request, etag):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = media_type
    return web.Response(body=body, headers=headers)


def setup(app: web.Application) -> None:
    app[_CONTEXT] = PartnerContext.from_settings(app[SETTINGS])
    app[CLOCK] = _utc_now
    section = r"{section:[a-z0-9][a-z0-9-]{0,63}}"
    item = r"{id:[A-Za-z0-9._-]{1,128}}"
    app.router.add_get(f"/partners/newsml/items/{item}.xml", newsml_item)
    app.router.add_get(f"/partners/ninjs/items/{item}.json", ninjs_item)
    app.router.add_get(f"/partners/newsml/{section}.xml", newsml_section)
    app.router.add_get(f"/partners/ninjs/{section}.json", ninjs_section)
