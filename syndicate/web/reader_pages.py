"""Pages a person can read: `/` and one page per section, made from the feeds in memory.

A page is rendered once per version of the feeds it shows (keyed by their ETags), then served
from memory like a feed: a strong ETag of its bytes, 304s, a gzip copy made once. It never
reads the store: what the JSON Feed carries is all it shows, so nothing held or withdrawn
can appear here that the feeds do not show.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from importlib import resources
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from syndicate.core.config import ALL_SECTION, Section, Settings
from syndicate.core.errors import NotFound
from syndicate.pipeline.publish import gzip_bytes
from syndicate.pipeline.served import FeedCache, strong_etag
from syndicate.render import EPOCH, FORMATS
from syndicate.render.jsonfeed import FILENAME as JSON_FEED
from syndicate.web.caching import caching_headers, not_modified, not_modified_response, public
from syndicate.web.feeds import _accepts as accepted_encodings
from syndicate.web.keys import CACHE, SETTINGS
from syndicate.web.page_views import stories, words
from syndicate.web.templating import direction

STYLESHEET = resources.files("syndicate").joinpath("web/static/public/reader.css").read_bytes()
# The stylesheet's address carries a hash of its bytes, so it may be cached for a year and a
# new release is fetched at once.
STYLESHEET_URL = "/static/public/reader.css?v=" + hashlib.sha256(STYLESHEET).hexdigest()[:12]
# No script runs on a reader's page at all; only our stylesheet; images from anywhere (an
# article's pictures live on the newsroom's servers). Defence in depth: bodies are sanitised.
CSP = (
    "default-src 'none'; style-src 'self'; img-src https: http: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
INDEX_HEADLINES = 3


@dataclass(frozen=True, slots=True)
class ServedPage:
    """One rendered page and what it was made from (the ETags of the feeds it shows)."""

    source: tuple[str, ...]
    body: bytes
    gzip: bytes
    etag: str
    last_modified: datetime
    last_modified_http: str

    @classmethod
    def made(cls, source: tuple[str, ...], body: bytes, modified: datetime) -> ServedPage:
        return cls(
            source=source,
            body=body,
            gzip=gzip_bytes(body),
            etag=strong_etag(body),
            last_modified=modified,
            last_modified_http=format_datetime(modified, usegmt=True),
        )


PAGES = web.AppKey("reader_pages", dict[str, ServedPage])
_INDEX_KEY = ""  # the index page's entry among the section pages


def feed_links(settings: Settings, slug: str) -> list[dict[str, str]]:
    """Each format's address of a section's feed, for subscribe and autodiscovery links."""
    base = settings.base_url.rstrip("/")
    return [
        {
            "label": fmt.label,
            "type": fmt.media_type.split(";")[0],
            "url": f"{base}/feeds/{slug}/{fmt.filename}",
        }
        for fmt in FORMATS.values()
    ]


def _sections(settings: Settings) -> list[Section]:
    return [*settings.sections, settings.all_section()]


def _common(settings: Settings) -> dict[str, Any]:
    return {
        "site_title": settings.site_title,
        "stylesheet": STYLESHEET_URL,
        "opml_url": settings.base_url.rstrip("/") + "/feeds/opml.xml",
    }


def render_section(app: web.Application, section: Section, feed_json: bytes) -> bytes:
    settings = app[SETTINGS]
    found = stories(feed_json)
    # The `all` section mixes languages: its items say theirs; its page speaks English.
    lang = section.language if section.slug != ALL_SECTION else "en"
    html = (
        aiohttp_jinja2.get_env(app)
        .get_template("public/section.html")
        .render(
            **_common(settings),
            lang=lang,
            words=words(lang),
            title=section.title_in(section.language),
            description=section.description_in(section.language),
            section_lang=section.language,
            section_dir=direction(section.language),
            feeds=feed_links(settings, section.slug),
            stories=found,
            sections=[
                {"slug": s.slug, "title": s.title_in(s.language), "lang": s.language}
                for s in _sections(settings)
            ],
            current=section.slug,
        )
    )
    return html.encode("utf-8")


def render_index(app: web.Application, feeds: dict[str, bytes]) -> bytes:
    settings = app[SETTINGS]
    blocks = []
    for section in _sections(settings):
        data = feeds.get(section.slug)
        found = stories(data, INDEX_HEADLINES) if data is not None else []
        blocks.append(
            {
                "slug": section.slug,
                "title": section.title_in(section.language),
                "description": section.description_in(section.language),
                "lang": section.language,
                "dir": direction(section.language),
                "feeds": feed_links(settings, section.slug),
                "stories": found,
                "words": words(section.language),
            }
        )
    html = (
        aiohttp_jinja2.get_env(app)
        .get_template("public/index.html")
        .render(**_common(settings), lang="en", words=words("en"), blocks=blocks)
    )
    return html.encode("utf-8")


def _page_for_section(request: web.Request, slug: str) -> ServedPage:
    app = request.app
    section = app[SETTINGS].feed_section(slug)
    if section is None:
        raise NotFound(f"no such section: {slug!r}")
    feed = app[CACHE].get(slug, JSON_FEED)
    if feed is None:
        raise NotFound(f"the {slug} feeds have not been generated yet")
    pages = app[PAGES]
    page = pages.get(slug)
    if page is None or page.source != (feed.etag,):
        page = ServedPage.made(
            (feed.etag,), render_section(app, section, feed.body), feed.last_modified
        )
        pages[slug] = page
    return page


def _index_page(request: web.Request) -> ServedPage:
    app = request.app
    cache: FeedCache = app[CACHE]
    served = {
        s.slug: feed
        for s in _sections(app[SETTINGS])
        if (feed := cache.get(s.slug, JSON_FEED)) is not None
    }
    source = tuple(f"{slug}={feed.etag}" for slug, feed in served.items())
    page = app[PAGES].get(_INDEX_KEY)
    if page is None or page.source != source:
        modified = max((f.last_modified for f in served.values()), default=EPOCH)
        body = render_index(app, {slug: feed.body for slug, feed in served.items()})
        page = app[PAGES][_INDEX_KEY] = ServedPage.made(source, body, modified)
    return page


def _answer(request: web.Request, page: ServedPage) -> web.Response:
    headers = caching_headers(
        page.etag,
        request.app[_CACHE_CONTROL],
        last_modified=page.last_modified_http,
        vary="Accept-Encoding",
    )
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    if not_modified(request, page.etag, last_modified=page.last_modified):
        return not_modified_response(headers)
    headers["Content-Type"] = "text/html; charset=utf-8"
    encodings = request.headers.get("Accept-Encoding")
    if encodings and accepted_encodings(encodings)[1]:
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=page.gzip, headers=headers)
    return web.Response(body=page.body, headers=headers)


async def section_page(request: web.Request) -> web.Response:
    return _answer(request, _page_for_section(request, request.match_info["section"]))


async def index_page(request: web.Request) -> web.Response:
    return _answer(request, _index_page(request))


async def stylesheet(request: web.Request) -> web.Response:
    headers = caching_headers(_STYLESHEET_ETAG, public(365 * 86400) + ", immutable")
    if not_modified(request, _STYLESHEET_ETAG):
        return not_modified_response(headers)
    headers["Content-Type"] = "text/css; charset=utf-8"
    return web.Response(body=STYLESHEET, headers=headers)


_STYLESHEET_ETAG = strong_etag(STYLESHEET)
_CACHE_CONTROL = web.AppKey("reader_pages_cache_control", str)


def setup(app: web.Application, settings: Settings) -> None:
    # As long as a feed: a withdrawn story leaves shared caches of the pages as soon.
    app[_CACHE_CONTROL] = public(settings.feed_max_age)
    app[PAGES] = {}
    app.router.add_get("/", index_page)
    app.router.add_get(r"/sections/{section:[a-z0-9][a-z0-9-]{0,63}}", section_page)
    app.router.add_get("/static/public/reader.css", stylesheet)
