"""`GET /api/status`: what the service is doing (sections, timer, releases, WebSub, pushes),
for editors. The answer is built by `syndicate.service.status`; this only gathers the app's parts.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.helpers import ChainMapProxy

from syndicate.service.status import collect_status
from syndicate.web.auth import require
from syndicate.web.keys import CLOCK, PUSHER, REGENERATOR, SCHEDULER, SETTINGS, STORE, WEBSUB
from syndicate.web.responses import json_response


async def status(request: web.Request) -> web.Response:
    await require(request, "editor")
    return json_response(await service_status(request.config_dict))


async def service_status(config: ChainMapProxy) -> dict[str, Any]:
    """The status of the app whose parts `config` holds (a request's `config_dict`, so the
    desk's sub-app asks the same as the API)."""
    return await collect_status(
        config[SETTINGS],
        config[STORE],
        config[REGENERATOR],
        config.get(SCHEDULER),
        websub=config.get(WEBSUB),
        pusher=config.get(PUSHER),
        now=config[CLOCK](),
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/status", status, allow_head=False)
