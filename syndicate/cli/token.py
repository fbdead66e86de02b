"""`syndicate token`: create, list, revoke and rotate API tokens (secrets printed once)."""

from __future__ import annotations

import json
from typing import Any

import click

from syndicate.cli._common import _run, _settings, _Stored
from syndicate.core.clock import utc_now
from syndicate.core.errors import NotFound
from syndicate.core.model import ROLES
from syndicate.core.tables import table


@click.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", required=True, help="Who the token is for (unique among live tokens).")
@click.option("--sections", default="", help="Partner: entitled sections, comma-separated.")
@click.option("--embargoed", is_flag=True, help="Partner: may receive embargoed items early.")
@click.option("--expires", default=None, help="Lifetime, e.g. 30d, 12h, 2w (default: none).")
@click.pass_context
def token_create(
    ctx: click.Context, role: str, name: str, sections: str, embargoed: bool, expires: str | None
) -> None:
    """Create a token and print it (alone on stdout, once: only its hash is kept).

    `editor` uses the editor API, `partner` pulls its --sections, `metrics` scrapes /metrics,
    `admin` manages tokens over /api/tokens.
    """
    from syndicate.core.tokens import MAX_NAME_LENGTH, new_token, parse_duration

    settings = _settings(ctx)
    slugs = [s.strip() for s in sections.split(",") if s.strip()]
    if role == "partner":
        if not slugs:
            raise click.UsageError("a partner token needs --sections a,b")
        unknown = [s for s in slugs if settings.section(s) is None]
        if unknown:
            raise click.UsageError(f"undeclared section(s): {', '.join(unknown)}")
    elif slugs or embargoed:
        raise click.UsageError("--sections and --embargoed are for partner tokens")
    if not name.strip() or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise click.UsageError(f"--name: 1 to {MAX_NAME_LENGTH} printable characters")
    try:
        lifetime = parse_duration(expires) if expires is not None else None
    except ValueError as exc:
        raise click.UsageError(f"--expires: {exc}") from None
    secret, digest = new_token()

    async def run() -> None:
        async with _Stored(settings) as store:
            if any(t.name == name for t in await store.list_tokens()):
                raise click.ClickException(
                    f"a token named {name!r} exists: `syndicate token rotate {name}` gives it "
                    "a new secret, `syndicate token revoke` ends it"
                )
            now = utc_now()
            await store.add_token(
                name=name,
                role=role,  # type: ignore[arg-type]
                token_hash=digest,
                sections=slugs,
                embargoed=embargoed,
                now=now,
                expires=now + lifetime if lifetime else None,
            )

    _run(run())
    click.echo(secret)


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the tokens as JSON.")
@click.pass_context
def token_list(ctx: click.Context, as_json: bool) -> None:
    """Every live token: name, role, sections, created, expires, last used (never the secret)."""
    from syndicate.web.tokens_api import describe

    settings = _settings(ctx)

    async def run() -> list[dict[str, Any]]:
        async with _Stored(settings) as store:
            return [describe(t) for t in await store.list_tokens()]

    tokens = _run(run())
    if as_json:
        click.echo(json.dumps(tokens, ensure_ascii=False, indent=2))
        return
    now = utc_now().isoformat()
    rows = [
        [
            t["name"],
            t["role"],
            (",".join(t["sections"]) or "-") + (" (embargoed)" if t["embargoed"] else ""),
            (t["created"] or "")[:19],
            (
                (t["expires"] or "never")[:19]
                + (" (expired)" if (t["expires"] or "~") < now else "")
            ),
            (t["last_used"] or "never")[:19],
        ]
        for t in tokens
    ]
    click.echo(table(["name", "role", "sections", "created", "expires", "last_used"], rows))


@token.command("revoke")
@click.argument("name")
@click.pass_context
def token_revoke(ctx: click.Context, name: str) -> None:
    """Revoke the token(s) named NAME: refused from the next request on, on every process."""
    settings = _settings(ctx)

    async def run() -> int:
        async with _Stored(settings) as store:
            try:
                return await store.revoke_tokens(name, now=utc_now())
            except NotFound as exc:
                raise click.ClickException(exc.message) from None

    click.echo(f"revoked {_run(run())} token(s) named {name!r}")


@token.command("rotate")
@click.argument("name")
@click.pass_context
def token_rotate(ctx: click.Context, name: str) -> None:
    """Give the token named NAME a new secret (printed once), same grants; the old one ends."""
    from syndicate.core.tokens import new_token

    settings = _settings(ctx)
    secret, digest = new_token()

    async def run() -> None:
        async with _Stored(settings) as store:
            try:
                await store.rotate_token(name, digest, now=utc_now())
            except NotFound as exc:
                raise click.ClickException(exc.message) from None

    _run(run())
    click.echo(secret)
