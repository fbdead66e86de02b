"""Editors' reading API: the article list (`GET /api/articles`) and an article's versions.

The desk's pages call the same functions (`article_page`, `versions_of`), so the page and the
API cannot disagree. The list is ordered by `published`, newest first, then by id; its cursor
is opaque (the last row's sort key and id) and pages by key, not by offset.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from syndicate.core.config import Settings
from syndicate.core.errors import BadRequest, FieldError, InvalidRequest, NotFound
from syndicate.core.model import (
    ARTICLE_STATES,
    PUBLISHED,
    Article,
    ArticleState,
    Change,
    format_time,
)
from syndicate.store.base import Store
from syndicate.store.words import query_words
from syndicate.validate import is_article_id
from syndicate.web.auth import require
from syndicate.web.keys import CLOCK, SETTINGS, STORE
from syndicate.web.responses import json_response

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_QUERY_CHARS = 200


@dataclass(frozen=True, slots=True)
class ArticleQuery:
    """A checked list request: filters, page size and where the page starts."""

    section: str | None = None
    state: ArticleState | None = None
    q: str = ""
    limit: int = DEFAULT_LIMIT
    after: tuple[str, str] | None = None


def parse_query(params: Mapping[str, str], settings: Settings) -> ArticleQuery:
    """The list parameters, or a 422 naming each bad one (a 400 for a bad cursor)."""
    errors: list[FieldError] = []
    section = params.get("section") or None
    if section is not None and settings.section(section) is None:
        errors.append(FieldError("/section", f"no such section: {shown(section[:64])!r}"))
    status = params.get("status") or None
    if status is not None and status not in ARTICLE_STATES:
        errors.append(FieldError("/status", f"one of {', '.join(ARTICLE_STATES)}"))
    q = params.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        errors.append(FieldError("/q", f"at most {MAX_QUERY_CHARS} characters"))
    limit = DEFAULT_LIMIT
    text = params.get("limit", "")
    if text:
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
            errors.append(FieldError("/limit", f"a whole number from 1 to {MAX_LIMIT}"))
        else:
            limit = int(text)
    if errors:
        raise InvalidRequest(errors)
    cursor = params.get("cursor") or None
    return ArticleQuery(
        section=section,
        state=status,  # type: ignore[arg-type]  # checked against ARTICLE_STATES above
        q=q,
        limit=limit,
        after=decode_cursor(cursor) if cursor else None,
    )


def shown(text: str) -> str:
    """`text` fit for an error message: bytes that were not UTF-8 written as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def encode_cursor(key: str, article_id: str) -> str:
    raw = json.dumps([key, article_id], separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    bad = BadRequest("cursor: not one this service made (start again without it)")
    if len(cursor) > 400 or not cursor.isascii():
        raise bad
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise bad from None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, str) for v in value)
        or not is_article_id(value[1])
    ):
        raise bad
    return value[0], value[1]


def state_of(article: Article, now: datetime) -> ArticleState:
    """published (public now), held (embargo or a future `published`) or withdrawn."""
    if article.status != PUBLISHED:
        return "withdrawn"
    return "held" if article.release_at > now else "published"


async def article_page(
    store: Store, query: ArticleQuery, now: datetime
) -> tuple[list[Article], str | None]:
    """One page of articles and the cursor of the next (None on the last page)."""
    rows = await store.list_articles(
        section=query.section,
        state=query.state,
        words=query_words(query.q),
        limit=query.limit + 1,  # one more tells whether another page follows
        after=query.after,
        now=now,
    )
    page = rows[: query.limit]
    more = len(rows) > query.limit
    return [a for a, _ in page], encode_cursor(page[-1][1], page[-1][0].id) if more else None


def listed(article: Article, now: datetime) -> dict[str, Any]:
    return {
        "id": article.id,
        "state": state_of(article, now),
        "release_at": format_time(article.release_at),
        "article": article.as_record(),
    }


async def list_articles(request: web.Request) -> web.Response:
    await require(request, "editor")
    query = parse_query(request.query, request.app[SETTINGS])
    now = request.app[CLOCK]()
    articles, cursor = await article_page(request.app[STORE], query, now)
    return json_response(
        {"articles": [listed(a, now) for a in articles], "next_cursor": cursor},
        headers={"Cache-Control": "no-store"},
    )


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], path: str = ""
) -> list[dict[str, Any]]:
    """Field-level differences as JSON pointers: objects are compared field by field, lists
    and plain values as wholes (a list of sections or tags reads best as before and after)."""
    out: list[dict[str, Any]] = []
    for key in sorted(set(before) | set(after)):
        where = f"{path}/{key.replace('~', '~0').replace('/', '~1')}"
        if key not in after:
            out.append({"path": where, "op": "remove", "before": before[key]})
        elif key not in before:
            out.append({"path": where, "op": "add", "after": after[key]})
        elif isinstance(before[key], dict) and isinstance(after[key], dict):
            out += diff(before[key], after[key], where)
        elif before[key] != after[key]:
            out.append({"path": where, "op": "replace", "before": before[key], "after": after[key]})
    return out


def _content(article: Article) -> dict[str, Any]:
    return {**article.record, "status": article.status}


def versions_of(history: list[Change]) -> list[dict[str, Any]]:
    """Every stored version, oldest first, with what changed from the one before.

    A `released` change is no new version: it marks the version it released.
    """
    versions: list[dict[str, Any]] = []
    previous: Article | None = None
    for change in history:
        article = change.article
        if change.kind == "released":
            if versions:
                versions[-1]["released"] = True
            continue
        created = article.version_created
        versions.append(
            {
                "version": article.version,
                "kind": change.kind,
                "status": article.status,
                "time": format_time(created) if created else None,
                "held": change.held,
                "released": False,
                "record": dict(article.record),
                "changes": diff(_content(previous), _content(article)) if previous else [],
            }
        )
        previous = article
    return versions


async def history_of(store: Store, article_id: str) -> list[Change]:
    if not is_article_id(article_id):
        raise NotFound(f"no article with id {shown(article_id[:130])!r}")
    found = await store.histories([article_id], await store.max_seq())
    history = found.get(article_id, [])
    if not history:
        raise NotFound(f"no article with id {article_id!r}")
    return history


async def article_versions(request: web.Request) -> web.Response:
    await require(request, "editor")
    article_id = request.match_info["id"]
    versions = versions_of(await history_of(request.app[STORE], article_id))
    return json_response(
        {"id": article_id, "versions": versions}, headers={"Cache-Control": "no-store"}
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/articles", list_articles, allow_head=False)
    app.router.add_get("/api/articles/{id}/versions", article_versions, allow_head=False)
