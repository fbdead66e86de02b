"""`syndicate partner push`: partners' push destinations: add, list, remove, replay."""

from __future__ import annotations

import json
from typing import Any

import click

from syndicate.cli._common import _run, _settings, _Stored
from syndicate.core.clock import utc_now
from syndicate.core.errors import BadRequest, NotFound
from syndicate.core.tables import table


@click.group()
def partner() -> None:
    """Partner outlets: where their stories are pushed."""


@partner.group("push")
def partner_push() -> None:
    """Push destinations: each change a partner would pull, POSTed to its endpoint, signed."""


@partner_push.command("add")
@click.option("--partner", "partner_name", required=True, help="The partner token's name.")
@click.option("--url", required=True, help="The receiver (https; http only to loopback).")
@click.option("--format", "fmt", type=click.Choice(["newsml", "ninjs"]), required=True)
@click.option("--sections", default="", help="Some of its sections (default: all of them).")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": …, "secret": …}.')
@click.pass_context
def push_add(
    ctx: click.Context, partner_name: str, url: str, fmt: str, sections: str, as_json: bool
) -> None:
    """Add a destination; print its id and signing secret (once: keep the secret)."""
    from syndicate.service.push import subscribe

    settings = _settings(ctx)
    slugs = tuple(s.strip() for s in sections.split(",") if s.strip())

    async def run() -> Any:
        async with _Stored(settings) as store:
            try:
                return await subscribe(store, partner_name, url, fmt, slugs, now=utc_now())
            except (ValueError, NotFound) as exc:
                raise click.ClickException(str(exc)) from None

    made = _run(run())
    if as_json:
        click.echo(json.dumps({"id": made.id, "secret": made.secret}))
    else:
        click.echo(f"destination: {made.id}\nsigning secret (shown once): {made.secret}")


@partner_push.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the destinations as JSON.")
@click.pass_context
def push_list(ctx: click.Context, as_json: bool) -> None:
    """Every destination: partner, URL, format, sections, delivered, failed, dead, waiting."""
    from syndicate.service.status import push_status

    settings = _settings(ctx)

    async def run() -> list[dict[str, Any]]:
        async with _Stored(settings) as store:
            return await push_status(store, None, utc_now())

    found = _run(run())
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    rows = [
        [d["id"], d["partner"] or "(revoked)", d["format"], ",".join(d["sections"]), d["url"],
         d["delivered"], d["failed"], d["dead"], d["queued"], d["last_error"] or "-"]
        for d in found
    ]  # fmt: skip
    click.echo(
        table(
            [
                "id",
                "partner",
                "format",
                "sections",
                "url",
                "delivered",
                "failed",
                "dead",
                "waiting",
                "last_error",
            ],
            rows,
        )
    )


@partner_push.command("remove")
@click.argument("destination")
@click.pass_context
def push_remove(ctx: click.Context, destination: str) -> None:
    """Stop pushing to DESTINATION."""
    settings = _settings(ctx)

    async def run() -> None:
        async with _Stored(settings) as store:
            try:
                await store.remove_destination(destination, now=utc_now())
            except NotFound as exc:
                raise click.ClickException(exc.message) from None

    _run(run())
    click.echo(f"removed {destination}")


@partner_push.command("replay")
@click.argument("destination")
@click.option("--since", default=None, help="A delivery's X-Syndicate-Cursor (default: start).")
@click.pass_context
def push_replay(ctx: click.Context, destination: str, since: str | None) -> None:
    """Deliver again what came after a cursor, or everything from the start."""
    from syndicate.service.push import replay

    settings = _settings(ctx)

    async def run() -> int:
        async with _Stored(settings) as store:
            try:
                return await replay(store, destination, since)
            except (NotFound, BadRequest) as exc:
                raise click.ClickException(exc.message) from None

    _run(run())
    click.echo(
        f"{destination}: replaying {'from the start' if since is None else 'after the cursor'}"
    )
