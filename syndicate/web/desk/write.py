"""Desk pages that change articles: the write form (create, edit), saving it, withdrawing.

Saving goes through the API's own steps: the same validation (`check_record_async`), the
store's version check (`If-Match` in the API: a stale version is a conflict, shown with both
versions side by side, never an overwrite) and the same notifications (`web/changes.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from syndicate.core.errors import BadRequest, FieldError, NotFound, PreconditionFailed
from syndicate.core.model import Article
from syndicate.pipeline.ingest import check_record_async
from syndicate.validate import is_article_id
from syndicate.web.articles_api import diff, state_of
from syndicate.web.changes import article_stored, articles_changed, count_ingest
from syndicate.web.desk.common import redirect, render, require_editor, signed_in
from syndicate.web.desk.forms import (
    LABELS,
    errors_by_field,
    form_from_record,
    form_values,
    record_from_form,
)
from syndicate.web.desk.session import Form, checked_form
from syndicate.web.keys import CLOCK, SETTINGS, STORE


async def _stored_article(request: web.Request) -> Article:
    article_id = request.match_info["id"]
    found = await request.config_dict[STORE].get(article_id) if is_article_id(article_id) else None
    if found is None:
        raise NotFound(f"no article with id {article_id[:130]!r}")
    return found


def _blank(now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {name: "" for name in LABELS}
    values["sections"] = []
    values["published"] = now.replace(microsecond=0).isoformat()
    return values


async def _form_page(
    request: web.Request,
    values: dict[str, Any],
    *,
    version: str,
    errors: dict[str, list[str]] | None = None,
    conflict: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    settings = request.config_dict[SETTINGS]
    return await render(
        request,
        "write.html",
        {
            "nav": "write",
            "values": values,
            "version": version,
            "errors": errors or {},
            "labels": LABELS,
            "sections": settings.sections,
            "conflict": conflict,
            "lang": "en",
        },
        status,
    )


async def new_article(request: web.Request) -> web.Response:
    require_editor(await signed_in(request))
    return await _form_page(request, _blank(request.config_dict[CLOCK]()), version="")


async def edit_article(request: web.Request) -> web.Response:
    require_editor(await signed_in(request))
    article = await _stored_article(request)
    return await _form_page(request, form_from_record(article.record), version=str(article.version))


def _expected(form: Form) -> int | None:
    text = (form.get("version") or [""])[0].strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise BadRequest("version: expected the version the form was opened at")
    return int(text)


async def save_article(request: web.Request) -> web.Response:
    session, form = await checked_form(request)
    require_editor(session)
    store = request.config_dict[STORE]
    expected = _expected(form)
    article_id = (form.get("id") or [""])[0].strip()
    current = await store.get(article_id) if is_article_id(article_id) else None
    base = current.record if current is not None and current.version == expected else None
    record = record_from_form(form, base)
    values = form_values(form)
    if expected is None and current is not None:
        # A new article must not replace one that exists under the same ID, silently.
        return await _conflict(request, values, record, current, based_on=None)
    checked, errors = await check_record_async(record, request.config_dict[SETTINGS])
    if checked is None:
        count_ingest(request.config_dict, "rejected")
        shown = "" if expected is None else str(expected)
        placed = errors_by_field(errors)
        return await _form_page(request, values, version=shown, errors=placed, status=422)
    try:
        result = await store.put(
            checked, expected_version=expected, now=request.config_dict[CLOCK]()
        )
    except PreconditionFailed:
        theirs = await store.get(article_id)
        if theirs is None:
            raise
        return await _conflict(request, values, record, theirs, based_on=expected)
    article_stored(request.config_dict, result)
    where = f"/desk/articles/{quote(result.article.id)}?saved={result.outcome}"
    return redirect(where)


async def _conflict(
    request: web.Request,
    values: dict[str, Any],
    mine: dict[str, Any],
    theirs: Article,
    *,
    based_on: int | None,
) -> web.Response:
    """Both versions and how they differ; the form keeps the editor's text, now based on the
    stored version, so saving again is a deliberate choice to replace it."""
    conflict = {
        "new": based_on is None,
        "based_on": based_on,
        "theirs": theirs,
        "theirs_state": state_of(theirs, request.config_dict[CLOCK]()),
        "changes": diff(dict(theirs.record), mine),
    }
    return await _form_page(
        request, values, version=str(theirs.version), conflict=conflict, status=409
    )


async def withdraw_page(request: web.Request) -> web.Response:
    require_editor(await signed_in(request))
    article = await _stored_article(request)
    return await render(
        request,
        "withdraw.html",
        {
            "nav": "articles",
            "article": article,
            "state": state_of(article, request.config_dict[CLOCK]()),
            "publish_delay": request.config_dict[SETTINGS].publish_delay,
        },
    )


async def withdraw(request: web.Request) -> web.Response:
    session, form = await checked_form(request)
    require_editor(session)
    if (form.get("confirm") or [""])[0] != "yes":
        raise BadRequest("confirm: withdrawing needs the confirmation step", [
            FieldError("/confirm", "withdrawing needs the confirmation step")
        ])  # fmt: skip
    article = await _stored_article(request)
    withdrawn = await request.config_dict[STORE].withdraw(
        article.id, now=request.config_dict[CLOCK]()
    )
    articles_changed(request.config_dict)
    return redirect(f"/desk/articles/{quote(withdrawn.id)}?saved=withdrawn")
