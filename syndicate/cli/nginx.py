"""`syndicate nginx-conf`: print an nginx `server` block that serves the feeds folder."""

from __future__ import annotations

from pathlib import Path

import click

from syndicate.cli._common import _settings


@click.command("nginx-conf")
@click.option("--port", default=8088, show_default=True, help="The port nginx listens on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address it listens on.")
@click.option(
    "--feeds-dir",
    type=click.Path(file_okay=False),
    help="The feeds folder to serve (default: the configured SYNDICATE_FEEDS_DIR).",
)
@click.option(
    "--app-url",
    help="The service (e.g. http://127.0.0.1:8080): pages, API and on-demand feeds are "
    "proxied to it, and browsers opening a feed are sent to its page.",
)
@click.option("--brotli", is_flag=True, help="Serve the .br copies too (needs ngx_brotli).")
@click.pass_context
def nginx_conf(
    ctx: click.Context,
    port: int,
    host: str,
    feeds_dir: str | None,
    app_url: str | None,
    brotli: bool,
) -> None:
    """Print an nginx server block for the published feeds (put it in nginx's http block)."""
    from syndicate.pipeline.nginx import StaticSite

    settings = _settings(ctx)
    site = StaticSite(
        Path(feeds_dir) if feeds_dir else settings.feeds_dir,
        port,
        host=host,
        max_age=settings.feed_max_age,
        brotli=brotli,
        app_url=app_url,
    )
    try:
        click.echo(site.server_block(), nl=False)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
