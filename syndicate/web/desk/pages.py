"""Desk pages for reading: sign-in and sign-out, the article list, and one article in full."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from syndicate.core.config import ALL_SECTION, Settings
from syndicate.core.delivery import Audience, current
from syndicate.core.errors import Forbidden, NotFound
from syndicate.core.model import Article, Change
from syndicate.pipeline.served import ServedFeed
from syndicate.render import FeedContext, article_id
from syndicate.render.partner import PartnerContext
from syndicate.render.preview import item_previews
from syndicate.web.articles_api import (
    article_page,
    history_of,
    parse_query,
    state_of,
    versions_of,
)
from syndicate.web.desk.common import redirect, render, signed_in
from syndicate.web.desk.forms import LABELS
from syndicate.web.desk.session import (
    LIMITER,
    SIGN_IN_COOKIE,
    check_token,
    checked_form,
    client_address,
    end_session,
    keep_sign_in_csrf,
    same_secret,
    sign_in_csrf,
    start_session,
)
from syndicate.web.desk.session import current as current_session
from syndicate.web.keys import CLOCK, REGENERATOR, SETTINGS, STORE


async def index(request: web.Request) -> web.Response:
    await signed_in(request)
    return redirect("/desk/articles")


async def sign_in_page(request: web.Request) -> web.Response:
    if await current_session(request) is not None:
        return redirect("/desk/articles")
    return await _sign_in_form(request, None, 200)


async def _sign_in_form(request: web.Request, error: str | None, status: int) -> web.Response:
    csrf = sign_in_csrf(request)
    response = await render(request, "sign_in.html", {"sign_in_csrf": csrf, "error": error}, status)
    keep_sign_in_csrf(request, response, csrf)
    return response


async def sign_in(request: web.Request) -> web.Response:
    limiter = request.config_dict[LIMITER]
    address = client_address(request)
    wait = limiter.retry_after(address)
    if wait:
        message = f"Too many failed sign-ins from your address. Try again in {wait} seconds."
        response = await _sign_in_form(request, message, 429)
        response.headers["Retry-After"] = str(wait)
        return response
    form = await request.post()
    if not same_secret(form.get("csrf"), request.cookies.get(SIGN_IN_COOKIE, "")):
        raise Forbidden("the sign-in form is stale or was not sent by this site: reload it")
    secret = form.get("token")
    token = await check_token(request, secret if isinstance(secret, str) else "")
    if isinstance(token, str):
        limiter.failed(address)
        return await _sign_in_form(request, token, 401)
    limiter.succeeded(address)
    response = redirect("/desk/articles")
    await start_session(request, token, response)
    return response


async def sign_out(request: web.Request) -> web.Response:
    await checked_form(request)
    response = redirect("/desk/sign-in")
    await end_session(request, response)
    return response


def _link(params: dict[str, str]) -> str:
    kept = {k: v for k, v in params.items() if v}
    return "/desk/articles" + (f"?{urlencode(kept)}" if kept else "")


async def articles(request: web.Request) -> web.Response:
    await signed_in(request)
    settings = request.config_dict[SETTINGS]
    query = parse_query(request.query, settings)
    now = request.config_dict[CLOCK]()
    found, cursor = await article_page(request.config_dict[STORE], query, now)
    filters = {
        "section": query.section or "",
        "status": query.state or "",
        "q": query.q,
        "limit": request.query.get("limit", ""),
    }
    return await render(
        request,
        "articles.html",
        {
            "nav": "articles",
            "rows": [(a, state_of(a, now)) for a in found],
            "sections": settings.sections,
            "filters": filters,
            "next_link": _link({**filters, "cursor": cursor}) if cursor else None,
            "first_link": _link(filters) if query.after else None,
            "filtered": any(filters.values()),
        },
    )


async def article(request: web.Request) -> web.Response:
    await signed_in(request)
    store = request.config_dict[STORE]
    settings = request.config_dict[SETTINGS]
    history = await history_of(store, request.match_info["id"])
    stored = await store.get(history[-1].article.id)
    if stored is None:
        raise NotFound("no such article")
    now = request.config_dict[CLOCK]()
    primary = settings.section(stored.sections[0]) or settings.all_section()
    previews = item_previews(
        FeedContext.from_settings(settings),
        PartnerContext.from_settings(settings),
        primary,
        stored,
        now,
    )
    return await render(
        request,
        "article.html",
        {
            "nav": "articles",
            "article": stored,
            "state": state_of(stored, now),
            "versions": list(reversed(versions_of(history))),
            "feeds": await _in_feeds(request, settings, stored, now),
            "partners": await _partners(request, history, now),
            "previews": previews,
            "saved": request.query.get("saved", ""),
            "labels": {**LABELS, "image": "Image", "rights": "Rights"},
        },
    )


async def _in_feeds(
    request: web.Request, settings: Settings, article: Article, now: datetime
) -> list[dict[str, Any]]:
    """Per section (and `all`): is the article in the feed this process serves now, and why
    (or why not)."""
    store = request.config_dict[STORE]
    regenerator = request.config_dict[REGENERATOR]
    state = state_of(article, now)
    waiting = regenerator.waiting(await store.section_seqs())
    out = []
    for slug in [*article.sections, ALL_SECTION]:
        section = settings.feed_section(slug)
        if section is None:
            continue
        served = _in_served_feed(regenerator.cache.get(slug, "feed.json"), article)
        if state == "published":
            newest = await store.latest(
                None if slug == ALL_SECTION else slug, section.limit, now=now
            )
            if served:
                why = "in its feeds"
                if slug in waiting:
                    why += " (newer changes go out with the next regeneration)"
            elif any(a.id == article.id for a in newest):
                why = "not in its feeds yet: the next regeneration adds it"
            else:
                why = f"older than its {section.limit} newest articles: not in its feeds"
        elif state == "held":
            why = "held: in no public output before its release"
        else:
            why = "withdrawn: " + (
                "still in the feeds until the next regeneration" if served else "not in its feeds"
            )
        out.append({"slug": slug, "title": section.title_in("en"), "why": why})
    return out


def _in_served_feed(feed: ServedFeed | None, article: Article) -> bool:
    """Whether the JSON Feed being served carries the article (by its id, or its URL)."""
    if feed is None:
        return False
    items = json.loads(feed.body).get("items", [])
    return any(
        item.get("id") == article_id(article) or item.get("url") == article.canonical_url
        for item in items
    )


async def _partners(
    request: web.Request, history: list[Change], now: datetime
) -> list[dict[str, Any]]:
    """What each partner has of the article: the one delivery rule's answer, as pulls see it."""
    out = []
    for token in await request.config_dict[STORE].list_tokens():
        if token.role != "partner":
            continue
        notice = current(history, Audience.of(token), now)
        if notice is None:
            shown = "nothing (not in its sections, or not released to it)"
        elif notice.pubstatus == "usable":
            shown = "usable" + (", early, marked embargoed" if notice.held else "")
        elif notice.pubstatus == "withheld":
            shown = "withheld (held again after it had it)"
        else:
            shown = "canceled (a kill notice)"
        out.append({"name": token.name, "sections": token.sections, "shown": shown})
    return out
