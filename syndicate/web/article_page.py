"""`GET /articles/{id}`: one published article as a page a person can read.

It is also the article's own URL when it has none elsewhere (an imported page without a
`--url`). Held (embargoed, future-dated), withdrawn and unknown articles all answer the same
404, so the page never tells that a held story exists. Rendered pages are kept per article
version in a small bounded cache; the store is asked every time whether the article is public.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from syndicate.core.errors import NotFound
from syndicate.core.model import PUBLISHED, Article
from syndicate.render import FeedContext
from syndicate.web.caching import (
    caching_headers,
    not_modified,
    not_modified_response,
    public,
    strong_etag,
)
from syndicate.web.keys import CLOCK, SETTINGS, STORE
from syndicate.web.page_views import when, words
from syndicate.web.reader_pages import CSP, STYLESHEET_URL, feed_links
from syndicate.web.templating import direction

ID_PATTERN = r"[A-Za-z0-9._-]{1,128}"
CACHED_PAGES = 512


class _Rendered(OrderedDict[tuple[str, int, str], tuple[bytes, str]]):
    """(id, version, content hash) -> (page, ETag), least recently used dropped first."""

    def get_page(self, key: tuple[str, int, str]) -> tuple[bytes, str] | None:
        found = self.get(key)
        if found is not None:
            self.move_to_end(key)
        return found

    def keep(self, key: tuple[str, int, str], page: tuple[bytes, str]) -> None:
        self[key] = page
        self.move_to_end(key)
        while len(self) > CACHED_PAGES:
            self.popitem(last=False)


_RENDERED = web.AppKey("article_pages", _Rendered)
_CACHE_CONTROL = web.AppKey("article_cache_control", str)


def is_public(article: Article | None, now: datetime) -> bool:
    """Published and released: what a reader may see (what the feeds would carry)."""
    return article is not None and article.status == PUBLISHED and article.release_at <= now


def render_article(app: web.Application, article: Article) -> bytes:
    settings = app[SETTINGS]
    own = FeedContext.from_settings(settings).article_url(article.id)
    sections = [s for slug in article.sections if (s := settings.feed_section(slug)) is not None]
    canonical = article.canonical_url
    html = (
        aiohttp_jinja2.get_env(app)
        .get_template("public/article.html")
        .render(
            site_title=settings.site_title,
            stylesheet=STYLESHEET_URL,
            opml_url=settings.base_url.rstrip("/") + "/feeds/opml.xml",
            lang=article.language,
            words=words(article.language),
            article=article,
            canonical=canonical,
            elsewhere=urlsplit(canonical).netloc if canonical != own else None,
            published_text=when(article.published, article.language),
            updated_text=(
                when(article.updated, article.language)
                if article.updated and article.updated != article.published
                else None
            ),
            sections=[
                {
                    "slug": s.slug,
                    "title": s.title_in(s.language),
                    "lang": s.language,
                    "dir": direction(s.language),
                    "feeds": feed_links(settings, s.slug),
                }
                for s in sections
            ],
        )
    )
    return html.encode("utf-8")


async def article_page(request: web.Request) -> web.Response:
    app = request.app
    article_id = request.match_info["id"]
    article = await app[STORE].get(article_id)
    now = app[CLOCK]()
    if article is None or not is_public(article, now):
        # One answer for unknown, held and withdrawn: the message names only the id asked for.
        raise NotFound(f"no such article: {article_id!r}")
    key = (article.id, article.version, article.content_hash)
    rendered = app[_RENDERED].get_page(key)
    if rendered is None:
        body = render_article(app, article)
        rendered = (body, strong_etag(body))
        app[_RENDERED].keep(key, rendered)
    body, etag = rendered
    modified = (article.version_created or article.modified).astimezone(UTC)
    modified = min(modified, now).replace(microsecond=0)
    headers = caching_headers(
        etag,
        app[_CACHE_CONTROL],
        last_modified=format_datetime(modified, usegmt=True),
    )
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    if not_modified(request, etag, last_modified=modified):
        return not_modified_response(headers)
    headers["Content-Type"] = "text/html; charset=utf-8"
    return web.Response(body=body, headers=headers)


def setup(app: web.Application, max_age: int) -> None:
    # As long as a feed: a withdrawn story leaves shared caches as soon as it leaves the feeds.
    app[_CACHE_CONTROL] = public(max_age)
    app[_RENDERED] = _Rendered()
    app.router.add_get("/articles/{id:" + ID_PATTERN + "}", article_page)
