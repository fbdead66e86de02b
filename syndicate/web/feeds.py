"""Reader endpoints: feeds from memory with conditional GET, OPML, index, health, metrics.

The feed handler is the hottest path in the system: a dict lookup, a header compare and
bytes already compressed. Nothing public here touches the store or the filesystem; only
`/metrics` does, to look up its bearer token.
"""

from __future__ import annotations

import functools
import html
from importlib import resources

from aiohttp import web

from syndicate.config import ALL_SECTION, Settings
from syndicate.errors import NotFound
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
    headers = caching_headers(
        feed.etag,
        app[_CACHE_CONTROL],
        last_modified=feed.last_modified_http,
        vary="Accept-Encoding",
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


def index_page(settings: Settings) -> bytes:
    """A small page listing every section's feeds, with autodiscovery links."""
    esc = html.escape
    head_links = []
    rows = []
    for slug in [*settings.section_slugs, ALL_SECTION]:
        section = settings.feed_section(slug)
        assert section is not None
        title = section.title_in(section.language)
        links = []
        for fmt in FORMATS.values():
            url = f"{settings.base_url}/feeds/{slug}/{fmt.filename}"
            mime = fmt.media_type.split(";")[0]
            head_links.append(
                f'<link rel="alternate" type="{mime}" title="{esc(title)} ({fmt.label})" '
                f'href="{esc(url)}">'
            )
            links.append(f'<a href="{esc(url)}">{fmt.label}</a>')
        lang = esc(section.language)
        rows.append(
            f'<li id="{esc(slug)}"><strong lang="{lang}">{esc(title)}</strong> '
            f'<span lang="{lang}">{esc(section.description_in(section.language))}</span> — '
            + " · ".join(links)
            + "</li>"
        )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(settings.site_title)} feeds</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        + "".join(head_links)
        + f'<link rel="outline" type="text/x-opml" href="{esc(settings.base_url)}/feeds/opml.xml">'
        "</head><body>"
        f"<h1>{esc(settings.site_title)}</h1><p>Feeds by section "
        f'(<a href="{esc(settings.base_url)}/feeds/opml.xml">OPML</a> with all of them):</p><ul>'
        + "".join(rows)
        + "</ul></body></html>\n"
    )
    return page.encode("utf-8")


_INDEX = web.AppKey("index_page", bytes)
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
    app[_INDEX] = index_page(settings)
    app[_OPML] = app[REGENERATOR].opml
    app.router.add_get("/", fixed(lambda r: r.app[_INDEX], "text/html; charset=utf-8", 300))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get(
        "/feeds/opml.xml", fixed(lambda r: r.app[_OPML], "text/x-opml; charset=utf-8", 300)
    )
    app.router.add_get(r"/feeds/{section:[a-z0-9][a-z0-9-]{0,63}}/{name}", serve_feed)
    app.router.add_get("/static/feed.xsl", fixed(lambda r: _XSL, "text/xsl; charset=utf-8", 86400))
