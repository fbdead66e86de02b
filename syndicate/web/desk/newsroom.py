"""Desk pages about the whole newsroom: sections (and regenerating them), the embargo queue,
and who has access to what (tokens, partners, push destinations)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from syndicate.core.errors import Forbidden
from syndicate.pipeline.regenerate import SectionResult
from syndicate.service.status import push_status
from syndicate.web.desk.common import redirect, render, require_editor, signed_in
from syndicate.web.desk.session import checked_form
from syndicate.web.keys import CLOCK, PUSHER, REGENERATOR, SETTINGS, STORE
from syndicate.web.status_api import service_status

MAX_EMBARGOES_SHOWN = 500


async def _sections_page(request: web.Request, results: list[SectionResult] | None) -> web.Response:
    config = request.config_dict
    status = await service_status(config)
    settings = config[SETTINGS]
    titles: dict[str, tuple[str, str]] = {"all": ("All sections", "en")}
    for section in settings.sections:
        titles[section.slug] = (section.title_in(section.language), section.language)
    return await render(
        request,
        "sections.html",
        {
            "nav": "sections",
            "status": status,
            "titles": titles,
            "results": [r.as_dict() for r in results] if results is not None else None,
        },
    )


async def sections(request: web.Request) -> web.Response:
    await signed_in(request)
    return await _sections_page(request, None)


async def regenerate(request: web.Request) -> web.Response:
    session, form = await checked_form(request)
    require_editor(session)
    wanted = [s for s in form.get("section", []) if s]
    # The one regeneration path, as `POST /api/regenerate` takes it; no section means all.
    results = await request.config_dict[REGENERATOR].regenerate(wanted)
    return await _sections_page(request, results)


async def embargoes(request: web.Request) -> web.Response:
    await signed_in(request)
    store = request.config_dict[STORE]
    settings = request.config_dict[SETTINGS]
    pending = await store.pending_releases()
    rows: list[dict[str, Any]] = []
    for article_id, when, slugs in pending[:MAX_EMBARGOES_SHOWN]:
        article = await store.get(article_id)
        if article is None:
            continue
        rows.append(
            {
                "article": article,
                "release_at": when,
                "sections": [
                    (s.title_in("en") if (s := settings.section(slug)) else slug) for slug in slugs
                ],
            }
        )
    return await render(
        request,
        "embargoes.html",
        {
            "nav": "embargoes",
            "rows": rows,
            "more": max(0, len(pending) - MAX_EMBARGOES_SHOWN),
            "checked": request.config_dict[CLOCK](),
        },
    )


async def tokens(request: web.Request) -> web.Response:
    await signed_in(request)
    store = request.config_dict[STORE]
    settings = request.config_dict[SETTINGS]
    query = request.query
    return await render(
        request,
        "tokens.html",
        {
            "nav": "tokens",
            "tokens": await store.list_tokens(),
            # The same figures as `/api/status`'s `push`, from the same function.
            "destinations": await push_status(
                store, request.config_dict.get(PUSHER), request.config_dict[CLOCK]()
            ),
            "section_title": {s.slug: s.title_in("en") for s in settings.sections},
            "revoked": query.get("revoked", ""),
            "removed": query.get("removed", "")[:80],
            "replayed": query.get("replayed", "")[:80],
        },
    )


async def revoke_token(request: web.Request) -> web.Response:
    session, _ = await checked_form(request)
    if session.token.role != "admin":
        raise Forbidden("only an admin token may change tokens")
    name = request.match_info["name"]
    await request.config_dict[STORE].revoke_tokens(name, now=request.config_dict[CLOCK]())
    return redirect("/desk/tokens?revoked=1")
