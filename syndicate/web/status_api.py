"""`GET /api/status`: what the service is doing (sections, timer, releases, WebSub, pushes),
for editors. The answer is built by `syndicate.status`; this only gathers the app's parts.
"""

from __future__ import annotations

from aiohttp import web

from syndicate.status import collect_status
from syndicate.web.auth import require
from syndicate.web.keys import CLOCK, PUSHER, REGENERATOR, SCHEDULER, SETTINGS, STORE, WEBSUB
from syndicate.web.responses import json_response


async def status(request: web.Request) -> web.Response:
    await require(request, "editor")
    body = await collect_status(
        request.app[SETTINGS],
        request.app[STORE],
        request.app[REGENERATOR],
        request.app.get(SCHEDULER),
        websub=request.app.get(WEBSUB),
        pusher=request.app.get(PUSHER),
        now=request.app[CLOCK](),
    )
    return json_response(body)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/status", status, allow_head=False)
