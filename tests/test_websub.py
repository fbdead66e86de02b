"""WebSub: discovery links in documents and headers, publish pings to a real loopback hub."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from syndicate.render import FORMATS
from syndicate.web.app import WEBSUB
from tests.helpers.clients import running_app, scrape
from tests.helpers.settings import build_settings
from tests.helpers.tokens import editor_header
from tests.helpers.waiting import wait_until

Server = Callable[..., Awaitable[TestServer]]
FEED_NAMES = [fmt.filename for fmt in FORMATS.values()]


def hub_app(fail_first: int = 0, always_fail: bool = False) -> tuple[web.Application, list[Any]]:
    """A hub that records each POST (content type, form); fails the first N per feed URL."""
    seen: list[Any] = []
    tries: Counter[str] = Counter()

    async def publish(request: web.Request) -> web.Response:
        form = await request.post()
        url = str(form.get("hub.url"))
        seen.append((request.content_type, dict(form)))
        tries[url] += 1
        if always_fail or tries[url] <= fail_first:
            return web.Response(status=500, text="hub is down")
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hub", publish)
    return app, seen


async def test_feeds_advertise_the_hub_and_themselves(tmp_path: Path) -> None:
    hub = "http://hub.test/"
    settings = build_settings(tmp_path, run_scheduler=False, websub_hub=hub)
    async with running_app(settings) as client:
        client.app[WEBSUB].notify = lambda url: None  # type: ignore[method-assign]
        auth = await editor_header(client)
        await client.post("/api/regenerate", json={"sections": ["global"]}, headers=auth)
        for name in FEED_NAMES:
            response = await client.get(f"/feeds/global/{name}")
            self_url = f"{settings.base_url}/feeds/global/{name}"
            link = response.headers["Link"]
            assert f'<{hub}>; rel="hub"' in link and f'<{self_url}>; rel="self"' in link
            text = await response.text()
            if name.endswith(".json"):
                body = json.loads(text)
                assert body["hubs"] == [{"type": "WebSub", "url": hub}]
                assert body["feed_url"] == self_url
            else:
                assert f'href="{hub}" rel="hub"' in text or f'rel="hub" href="{hub}"' in text
                assert self_url in text


async def _regenerate(client: Any, auth: dict[str, str]) -> dict[str, Any]:
    response = await client.post("/api/regenerate", json={"sections": ["global"]}, headers=auth)
    assert response.status == 200
    [result] = (await response.json())["results"]
    return dict(result)


async def test_changed_feeds_are_pinged(tmp_path: Path, aiohttp_server: Server) -> None:
    app, seen = hub_app()
    hub = await aiohttp_server(app)
    settings = build_settings(tmp_path, run_scheduler=False, websub_hub=str(hub.make_url("/hub")))
    async with running_app(settings) as client:
        auth = await editor_header(client)
        result = await _regenerate(client, auth)
        assert result["changed"] is True

        async def three() -> bool:
            return len(seen) >= 3

        await wait_until(three, timeout=5, what="three pings")
        await client.app[WEBSUB].idle()
        expected = {f"{settings.base_url}/feeds/global/{n}" for n in FEED_NAMES}
        assert {form["hub.url"] for _ct, form in seen} == expected
        assert all(ct == "application/x-www-form-urlencoded" for ct, _form in seen)
        assert all(form["hub.mode"] == "publish" for _ct, form in seen)

        # Nothing changed: no pings.
        assert (await _regenerate(client, auth))["changed"] is False
        await client.app[WEBSUB].idle()
        assert len(seen) == 3
        metrics = await scrape(client)
        assert 'syndicate_websub_pings_total{outcome="ok"} 3.0' in metrics


async def test_failed_pings_are_retried(tmp_path: Path, aiohttp_server: Server) -> None:
    app, seen = hub_app(fail_first=2)
    hub = await aiohttp_server(app)
    settings = build_settings(tmp_path, run_scheduler=False, websub_hub=str(hub.make_url("/hub")))
    async with running_app(settings) as client:
        client.app[WEBSUB].backoff = 0.01
        auth = await editor_header(client)
        await _regenerate(client, auth)

        async def done() -> bool:
            return client.app[WEBSUB].status()["ok"] == 3

        await wait_until(done, timeout=5, what="every ping to succeed on its third try")
        assert len(seen) == 9
        status = await (await client.get("/api/status", headers=auth)).json()
        websub = status["websub"]
        assert websub["ok"] == 3 and websub["retries"] == 6 and websub["failed"] == 0
        metrics = await scrape(client)
        assert 'syndicate_websub_pings_total{outcome="retry"} 6.0' in metrics


async def test_a_dead_hub_never_holds_up_regeneration(
    tmp_path: Path, aiohttp_server: Server
) -> None:
    app, seen = hub_app(always_fail=True)
    hub = await aiohttp_server(app)
    settings = build_settings(tmp_path, run_scheduler=False, websub_hub=str(hub.make_url("/hub")))
    async with running_app(settings) as client:
        publisher = client.app[WEBSUB]
        publisher.backoff = 0.2  # three tries take at least 0.6 s
        auth = await editor_header(client)
        result = await _regenerate(client, auth)
        assert result["changed"] is True and result["error"] is None
        assert publisher.status()["in_flight"] > 0, "regeneration waited for the hub"

        async def given_up() -> bool:
            return publisher.status()["failed"] == 3

        await wait_until(given_up, timeout=10, what="the pings to be given up")
        status = await (await client.get("/api/status", headers=auth)).json()
        websub = status["websub"]
        assert "500" in websub["last_error"]
        feed = websub["feeds"][f"{settings.base_url}/feeds/global/rss.xml"]
        assert feed["failed"] == 1 and feed["ok"] == 0 and "hub is down" in feed["last_error"]
        assert len(seen) == 9
        metrics = await scrape(client)
        assert 'syndicate_websub_pings_total{outcome="failed"} 3.0' in metrics
