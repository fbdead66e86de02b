"""Partner syndication endpoints (NewsML-G2, ninjs): entitled sections, incremental pulls."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    return None
