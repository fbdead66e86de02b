"""`syndicate serve`: the web app on a guarded runner, one line once the port is bound."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import click

from syndicate.cli._common import _ConfigExit, _settings
from syndicate.core.config import sqlite_folder
from syndicate.core.errors import ConfigError, SyndicateError


@click.command()
@click.option("--host", default=None, help="Interface to bind (default from settings).")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port (default from settings)."
)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the feeds, the editor API and the partner API."""
    from aiohttp import web

    from syndicate.web.app import create_app
    from syndicate.web.timeouts import GuardedRunner

    settings = _settings(ctx)
    host = host or settings.host
    port = settings.port if port is None else port
    try:
        sqlite_folder(settings)
        app = create_app(settings)
    except ConfigError as exc:
        raise _ConfigExit(exc) from None
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency; keep serving without it
        runner = asyncio.run

    async def serve_forever() -> None:
        web_runner = GuardedRunner(
            app,
            header_timeout=settings.header_timeout,
            idle_timeout=settings.idle_timeout,
            access_log=None,
            handle_signals=True,
        )
        await web_runner.setup()
        site = web.TCPSite(web_runner, host, port, backlog=1024, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:  # port taken, address not ours: one line, exit 1, no traceback
            await web_runner.cleanup()
            raise click.ClickException(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}"
            ) from None
        # Only once the store is open and the port bound: a supervisor can trust the line.
        click.echo(f"Syndicate serving on http://{host}:{port}/ (feeds under /feeds/)", err=True)
        click.echo(f"The editors' desk: {settings.base_url}/desk/", err=True)
        # What this process runs with, passwords hidden: the first thing to check in a log.
        logging.getLogger("syndicate").info(
            "settings %s", json.dumps(settings.redacted(), ensure_ascii=False)
        )
        try:
            await asyncio.Event().wait()
        finally:
            await web_runner.cleanup()

    try:
        with contextlib.suppress(KeyboardInterrupt, web.GracefulExit):
            runner(serve_forever())
    except SyndicateError as exc:
        # Typically the store cannot be opened at start (database down): say so in one line
        # and exit 1, so a supervisor restarts us, instead of printing a traceback.
        raise click.ClickException(exc.message) from None
