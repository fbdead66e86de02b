"""A real nginx (Debian's package) on the shipped configuration serves the published feeds:
the same bytes, media types, lifetimes, 304s and gzip, and the same validators on two hosts.

Skipped when nginx is absent, unless SYNDICATE_REQUIRE_NGINX=1 (CI sets it).
"""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from syndicate.pipeline.nginx import (
    StaticSite,
    nginx_binary,
    running_nginx,
    wrk_requests_per_second,
)
from syndicate.pipeline.regenerate import Regenerator
from syndicate.pipeline.served import FeedCache
from syndicate.render import FORMATS
from syndicate.store.sqlite import SQLiteStore
from syndicate.web.app import create_app
from tests.helpers.processes import free_port
from tests.helpers.readers import BROWSERS, fill, reader_settings
from tests.helpers.stores import sqlite_store

RENDERED_AT = datetime(2024, 7, 1, 12, 30, 5, tzinfo=UTC)


@pytest.fixture
def nginx() -> str:
    found = nginx_binary()
    if found is None:
        if os.environ.get("SYNDICATE_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is not installed (SYNDICATE_REQUIRE_NGINX=1)")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    return found


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with sqlite_store(tmp_path / "store.db") as opened:
        await fill(opened)
        yield opened


async def _host(store: SQLiteStore, tmp_path: Path, name: str, *, render: bool) -> FeedCache:
    """One host's feeds folder: the one that renders, or one that loads what was stored."""
    settings = reader_settings(tmp_path, feeds_dir=str(tmp_path / name))
    cache = FeedCache()
    # Rendered "in the past": files written now must still say the feed's own time.
    regenerator = Regenerator(settings, store, cache, clock=lambda: RENDERED_AT)
    if render:
        await regenerator.regenerate()
    else:
        await regenerator.load_published()
    await regenerator.settle()
    return cache


async def _get(session: aiohttp.ClientSession, url: str, **headers: str) -> tuple[int, Any, bytes]:
    sent = {"Accept-Encoding": "identity", **headers}
    async with session.get(url, headers=sent, allow_redirects=False) as resp:
        return resp.status, resp.headers, await resp.read()


async def test_nginx_serves_the_published_feeds_alike_on_every_host(
    nginx: str, store: SQLiteStore, tmp_path: Path
) -> None:
    cache = await _host(store, tmp_path, "feeds-a", render=True)
    await _host(store, tmp_path, "feeds-b", render=False)
    sites = [StaticSite(tmp_path / f, free_port(), max_age=45) for f in ("feeds-a", "feeds-b")]
    slugs = sorted(cache.sections())
    assert "global" in slugs and "arab-world" in slugs
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        with (
            running_nginx(tmp_path / "nginx-a", sites[0]) as host_a,
            running_nginx(tmp_path / "nginx-b", sites[1]) as host_b,
        ):
            for slug in slugs:
                for fmt in FORMATS.values():
                    served = cache.get(slug, fmt.filename)
                    assert served is not None
                    path = f"/feeds/{slug}/{fmt.filename}"
                    status, headers, body = await _get(session, host_a + path)
                    assert status == 200 and body == served.body, path
                    assert headers["Content-Type"] == fmt.media_type
                    assert headers["Cache-Control"] == "public, max-age=45"
                    # The file's mtime is the feed's Last-Modified: nginx says what we say.
                    assert headers["Last-Modified"] == served.last_modified_http
                    assert served.last_modified == RENDERED_AT
                    # Another host with the same bytes: the same validators.
                    status_b, headers_b, body_b = await _get(session, host_b + path)
                    assert (status_b, body_b) == (200, body)
                    for name in ("ETag", "Last-Modified", "Content-Type"):
                        assert headers_b[name] == headers[name], (path, name)
                    etag = headers["ETag"]
                    status, again, empty = await _get(
                        session, host_b + path, **{"If-None-Match": etag}
                    )
                    assert (status, empty, again["ETag"]) == (304, b"", etag)
                    status, _, _ = await _get(
                        session, host_a + path, **{"If-Modified-Since": headers["Last-Modified"]}
                    )
                    assert status == 304
                    status, zipped, data = await _get(
                        session, host_a + path, **{"Accept-Encoding": "gzip"}
                    )
                    assert status == 200 and zipped["Content-Encoding"] == "gzip"
                    assert "Accept-Encoding" in zipped["Vary"]
                    assert gzip.decompress(data) == served.body
                    assert data == served.gzip  # the copy written at render time, as is
                    status_b, zipped_b, _ = await _get(
                        session, host_b + path, **{"Accept-Encoding": "gzip"}
                    )
                    assert zipped_b["ETag"] == zipped["ETag"]
            status, headers, body = await _get(session, host_a + "/feeds/opml.xml")
            assert status == 200 and headers["Content-Type"] == "text/x-opml; charset=utf-8"
            assert body == (tmp_path / "feeds-a" / "opml.xml").read_bytes()
            # Copies under their own names and temp files are not served.
            for hidden in ("/feeds/global/rss.xml.gz", "/feeds/global/.rss.xml.1.tmp"):
                status, _, _ = await _get(session, host_a + hidden)
                assert status == 404, hidden
            rate = wrk_requests_per_second(
                host_a + "/feeds/global/rss.xml",
                seconds=1,
                connections=8,
                threads=1,
                headers={"Accept-Encoding": "gzip"},
            )
    if shutil.which("wrk") is None:
        assert rate is None
    else:
        assert rate is not None and rate > 0


async def test_nginx_in_front_of_the_service_sends_browsers_to_the_page(
    nginx: str, store: SQLiteStore, tmp_path: Path
) -> None:
    settings = reader_settings(tmp_path)
    app = create_app(settings, store=store, run_scheduler=False)
    async with TestServer(app) as server, aiohttp.ClientSession(auto_decompress=False) as session:
        results = await app_regenerate(app)
        assert all(r.error is None for r in results)
        site = StaticSite(
            settings.feeds_dir,
            free_port(),
            max_age=45,
            app_url=f"http://127.0.0.1:{server.port}",
        )
        with running_nginx(tmp_path / "nginx", site) as host:
            status, headers, _ = await _get(
                session, host + "/feeds/global/atom.xml", Accept=BROWSERS["chromium"]
            )
            assert status == 303 and headers["Location"] == "/sections/global"
            assert "Accept" in headers.getall("Vary")
            status, headers, body = await _get(
                session, host + "/feeds/global/atom.xml", Accept="application/atom+xml"
            )
            assert status == 200
            assert headers["Content-Type"] == "application/atom+xml; charset=utf-8"
            assert body == (settings.feeds_dir / "global" / "atom.xml").read_bytes()
            # The pages and whatever is not a file come from the service behind it.
            status, headers, body = await _get(session, host + "/sections/global")
            assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
            assert "वैश्विक".encode() in body
            status, headers, _ = await _get(session, host + "/feeds/nowhere/rss.xml")
            assert status == 404 and headers["Content-Type"].startswith("application/json")


async def app_regenerate(app: Any) -> list[Any]:
    from syndicate.web.keys import REGENERATOR

    results: list[Any] = await app[REGENERATOR].regenerate()
    await app[REGENERATOR].settle()
    return results
