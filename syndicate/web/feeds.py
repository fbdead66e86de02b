"""Reader endpoints: feeds from memory with conditional GET, OPML, health, metrics.

The feed handler is the hottest path in the system: a dict lookup, a header compare and
bytes already compressed. A browser's navigation (its Accept prefers HTML over every feed
type) is sent to the section's page instead. Nothing public here touches the store or the
filesystem; only `/metrics` does, to look up its bearer token.
"""

from __future__ import annotations

import functools
from importlib import resources

from aiohttp import web

from syndicate.core.config import ALL_SECTION, Settings
from syndicate.core.errors import NotFound
from syndicate.render import FORMATS
from syndicate.web.auth import require
from syndicate.web.caching import caching_headers, not_modified, not_modified_response, public
from syndicate.web.keys import CACHE, METRICS, REGENERATOR, SETTINGS, STORE
from syndicate.web.responses import fixed

_XSL = resources.files("syndicate").joinpath("web/static/feed.xsl").read_bytes()
_BY_FILENAME = {fmt.filename: fmt for fmt in FORMATS.values()}


@functools.lru_cache(maxsize=512)
def _accepts(accept: str) -> tuple[bool, bool]:
    """(brotli, gzip) acceptable per an Accept-Encoding value; cached, the header is hot."""
    offered: dict[str, float] = {}
    for part in accept.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        offered[name.strip()] = q
    star = offered.get("*", 0.0)
    br = offered.get("br", star)
    gz = offered.get("gzip", offered.get("x-gzip", star))
    # Brotli when it is wanted at least as much as gzip; gzip whenever it is acceptable.
    return br > 0 and br >= gz, gz > 0


# What a feed is, to a client's Accept: each format's own type and the generic ones readers
# send. A request is taken to the human page only when it prefers text/html to all of them.
_FEED_TYPES = (
    *(fmt.media_type.split(";")[0] for fmt in FORMATS.values()),
    "application/xml",
    "text/xml",
    "application/json",
)


@functools.lru_cache(maxsize=512)
def prefers_page(accept: str) -> bool:
    """Whether an Accept value ranks text/html strictly above every feed type.

    Browsers' navigations do (`text/html,…,application/xml;q=0.9,*/*;q=0.8`); feed readers
    and validators send `*/*`, a feed type or XML types, or rank HTML lower, and get the feed.
    A tie goes to the feed: a reader must never be sent a page. Cached: the header is hot.
    """
    ranges: dict[str, float] = {}
    for part in accept.lower().split(","):
        media, *params = part.split(";")
        media = media.strip()
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        # The first mention of a range wins (a client repeating one is malformed anyway).
        ranges.setdefault(media, q)
    html = _quality("text/html", ranges)
    return html > 0 and all(html > _quality(t, ranges) for t in _FEED_TYPES)


def _quality(media_type: str, ranges: dict[str, float]) -> float:
    """The q of `media_type` by its most specific matching range (RFC 9110, 12.5.1)."""
    kind = media_type.split("/", 1)[0]
    for key in (media_type, f"{kind}/*", "*/*"):
        if key in ranges:
            return ranges[key]
    return 0.0


def page_path(section: str) -> str:
    """Where a section's page for people is served (the feeds' alternate link)."""
    return f"/sections/{section}"


def cache_control(settings: Settings) -> str:
    # Its own setting, not the timer's interval: a kill must leave caches within it.
    return public(settings.feed_max_age)


async def serve_feed(request: web.Request) -> web.Response:
    app = request.app
    section = request.match_info["section"]
    name = request.match_info["name"]
    feed = app[CACHE].get(section, name)
    metrics = app[METRICS]
    if feed is None:
        metrics.feed_request(404)
        settings = app[SETTINGS]
        if settings.feed_section(section) is None:
            raise NotFound(f"no such section: {section!r}")
        if name not in _BY_FILENAME:
            raise NotFound(f"no such feed: {name!r}")
        raise NotFound(f"the {section} feeds have not been generated yet")
    fmt = _BY_FILENAME[name]
    wanted = request.headers.get("Accept")
    # A substring scan first: most readers never mention HTML, and skip the cached parse.
    if wanted and "text/html" in wanted and prefers_page(wanted):
        # A person in a browser: browsers show feeds as source text (and are dropping XSLT).
        # See Other, with the same lifetime as the feed; Vary, since readers get the feed.
        metrics.feed_request(303)
        return web.Response(
            status=303,
            headers={
                "Location": page_path(section),
                "Cache-Control": app[_CACHE_CONTROL],
                "Vary": _VARY,
            },
        )
    headers = caching_headers(
        feed.etag,
        app[_CACHE_CONTROL],
        last_modified=feed.last_modified_http,
        vary=_VARY,
    )
    link = app[_LINKS].get((section, name))
    if link:
        headers["Link"] = link
    if not_modified(request, feed.etag, last_modified=feed.last_modified):
        metrics.feed_request(304)
        return not_modified_response(headers)
    accept = request.headers.get("Accept-Encoding", "")
    brotli_ok, gzip_ok = _accepts(accept) if accept else (False, False)
    if brotli_ok and feed.br is not None:
        body = feed.br
        headers["Content-Encoding"] = "br"
    elif gzip_ok:
        body = feed.gzip
        headers["Content-Encoding"] = "gzip"
    else:
        body = feed.body
    headers["Content-Type"] = fmt.media_type
    metrics.feed_request(200)
    return web.Response(body=body, headers=headers)


# The answer depends on Accept (page or feed) and Accept-Encoding (which body).
_VARY = "Accept, Accept-Encoding"
_CACHE_CONTROL = web.AppKey("cache_control", str)
_LINKS = web.AppKey("feed_links", dict[tuple[str, str], str])


def _feed_links(settings: Settings) -> dict[tuple[str, str], str]:
    """WebSub discovery as HTTP Link headers (hub and self), when a hub is configured."""
    if not settings.websub_hub:
        return {}
    links = {}
    for slug in [*settings.section_slugs, ALL_SECTION]:
        for fmt in FORMATS.values():
            self_url = f"{settings.base_url}/feeds/{slug}/{fmt.filename}"
            links[(slug, fmt.filename)] = (
                f'<{settings.websub_hub}>; rel="hub", <{self_url}>; rel="self"'
            )
    return links


_OPML = web.AppKey("opml", bytes)


async def healthz(request: web.Request) -> web.Response:
    # 503 when degraded: a process that has not heard from the shared database for a while
    # may serve stale feeds, so a load balancer should take it out until it hears again.
    if request.app[STORE].health()["degraded"]:
        return web.Response(
            status=503,
            body=b'{"status": "degraded"}',
            headers={"Content-Type": "application/json; charset=utf-8", "Retry-After": "5"},
        )
    return web.Response(
        body=b'{"status": "ok"}', headers={"Content-Type": "application/json; charset=utf-8"}
    )


async def metrics(request: web.Request) -> web.Response:
    # Metrics say what is held back (pending embargo releases) and how the store fares: only
    # a `metrics` token may scrape, not the public, and not an editor or partner token either.
    await require(request, "metrics", "admin")
    return web.Response(
        body=request.app[METRICS].render(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


def setup(app: web.Application, settings: Settings) -> None:
    app[_CACHE_CONTROL] = cache_control(settings)
    app[_LINKS] = _feed_links(settings)
    app[_OPML] = app[REGENERATOR].opml
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get(
        "/feeds/opml.xml", fixed(lambda r: r.app[_OPML], "text/x-opml; charset=utf-8", 300)
    )
    app.router.add_get(r"/feeds/{section:[a-z0-9][a-z0-9-]{0,63}}/{name}", serve_feed)
    app.router.add_get("/static/feed.xsl", fixed(lambda r: _XSL, "text/xsl; charset=utf-8", 86400))
