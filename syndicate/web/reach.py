"""Readers' reach over HTTP: tag and author feeds, RFC 5005 archive pages, sitemaps, robots.txt.

Thin handlers over `syndicate.pipeline.ondemand` (rendered on demand, cached, invalidated by
the change log); validators and 304s come from `caching.py`, like the section feeds'.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from syndicate.core.config import Settings
from syndicate.core.errors import NotFound
from syndicate.pipeline.ondemand import Document, OnDemandFeeds
from syndicate.render import FORMATS
from syndicate.render.sitemap import robots_txt
from syndicate.web.caching import caching_headers, not_modified, not_modified_response, public
from syndicate.web.feeds import _accepts  # the one Accept-Encoding parser
from syndicate.web.keys import CLOCK, REGENERATOR, SETTINGS, STORE
from syndicate.web.responses import fixed

ONDEMAND = web.AppKey("ondemand", OnDemandFeeds)
_FORMAT_BY_FILE = {fmt.filename: name for name, fmt in FORMATS.items()}
_FEED_FILE = "{name:rss\\.xml|atom\\.xml|feed\\.json}"
# Crawlers have no business in the editors' and partners' interfaces.
_DISALLOWED = ("/api/", "/partners/", "/desk/")


def serve(request: web.Request, doc: Document) -> web.Response:
    """A cached document with its validators; 304 when the client's copy is current."""
    headers = caching_headers(
        doc.etag,
        public(doc.max_age),
        last_modified=doc.last_modified_http,
        vary="Accept-Encoding",
    )
    if not_modified(request, doc.etag, last_modified=doc.last_modified):
        return not_modified_response(headers)
    accept = request.headers.get("Accept-Encoding", "")
    body = doc.body
    if accept and _accepts(accept)[1]:
        body = doc.gzip
        headers["Content-Encoding"] = "gzip"
    headers["Content-Type"] = doc.media_type
    return web.Response(body=body, headers=headers)


def _format(request: web.Request) -> str:
    return _FORMAT_BY_FILE[request.match_info["name"]]


def _keyed_feed(kind: str, param: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler of tag (`kind` "tag") or author ("author") feeds; `param` names the term."""

    async def handler(request: web.Request) -> web.Response:
        feeds, term, name = request.app[ONDEMAND], request.match_info[param], _format(request)
        find = feeds.tag_feed if kind == "tag" else feeds.author_feed
        doc = await find(term, name)
        if doc is None:
            raise NotFound(f"no such {kind}: {term!r}")
        return serve(request, doc)

    return handler


tag_feed = _keyed_feed("tag", "tag")
author_feed = _keyed_feed("author", "slug")


async def archive_page(request: web.Request) -> web.Response:
    slug = request.match_info["section"]
    section = request.app[SETTINGS].feed_section(slug)
    if section is None:
        raise NotFound(f"no such section: {slug!r}")
    page = int(request.match_info["page"])
    doc = await request.app[ONDEMAND].archive_page(section, page, _format(request))
    if doc is None:
        raise NotFound(f"no archive page {page} of {slug!r}")
    return serve(request, doc)


async def news_sitemap(request: web.Request) -> web.Response:
    return serve(request, await request.app[ONDEMAND].news_sitemap())


async def sitemap_index(request: web.Request) -> web.Response:
    return serve(request, await request.app[ONDEMAND].sitemap_index())


async def section_sitemap(request: web.Request) -> web.Response:
    slug = request.match_info["section"]
    section = request.app[SETTINGS].section(slug)
    page = int(request.match_info["page"])
    doc = None if section is None else await request.app[ONDEMAND].section_sitemap(section, page)
    if doc is None:
        raise NotFound(f"no sitemap {page} of section {slug!r}")
    return serve(request, doc)


def robots(settings: Settings) -> bytes:
    base = settings.base_url.rstrip("/")
    return robots_txt([f"{base}/sitemaps/index.xml", f"{base}/sitemaps/news.xml"], _DISALLOWED)


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    ondemand = OnDemandFeeds(settings, app[STORE], app[REGENERATOR].pool, clock=app[CLOCK])
    app[ONDEMAND] = ondemand

    async def keep_current(app: web.Application) -> AsyncIterator[None]:
        await ondemand.start()
        task = asyncio.ensure_future(ondemand.watch())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    app.cleanup_ctx.append(keep_current)
    slug = "{section:[a-z0-9][a-z0-9-]{0,63}}"
    page = "{page:[1-9][0-9]{0,8}}"
    # Tag and author routes first: `tag` and `author` are never section slugs.
    app.router.add_get(f"/feeds/tag/{{tag:.+}}/{_FEED_FILE}", tag_feed)
    app.router.add_get(f"/feeds/author/{{slug:.+}}/{_FEED_FILE}", author_feed)
    app.router.add_get(f"/feeds/{slug}/archive/{page}/{_FEED_FILE}", archive_page)
    app.router.add_get("/sitemaps/news.xml", news_sitemap)
    app.router.add_get("/sitemaps/index.xml", sitemap_index)
    app.router.add_get(f"/sitemaps/sections/{slug}/{page}.xml", section_sitemap)
    text = robots(settings)
    app.router.add_get("/robots.txt", fixed(lambda r: text, "text/plain; charset=utf-8", 3600))
