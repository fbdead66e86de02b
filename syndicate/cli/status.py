"""`syndicate status`: the running service's view (with a token) or the store's, as tables."""

from __future__ import annotations

import json
from typing import Any

import click

from syndicate.cli._common import _run, _settings, _Stored
from syndicate.core.clock import utc_now
from syndicate.core.config import Settings
from syndicate.core.tables import table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option(
    "--url",
    default=None,
    help="A running service to ask (default: the configured base URL, when --token is given).",
)
@click.option(
    "--token",
    envvar="SYNDICATE_TOKEN",
    default=None,
    help="An editor token: ask the running service for its live status (/api/status).",
)
@click.pass_context
def status(ctx: click.Context, as_json: bool, url: str | None, token: str | None) -> None:
    """The service's status as tables: sections, timer, jobs, pending releases.

    With an editor token it shows what the running service reports (GET /api/status);
    without one, what the store alone can tell (items, stored feeds, pending releases).
    """
    settings = _settings(ctx)
    if token:
        body = _run(_live_status(url or settings.base_url, token))
    else:
        body = _run(_stored_status(settings))
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    click.echo(_status_tables(body, live=bool(token)))


async def _live_status(base_url: str, token: str) -> dict[str, Any]:
    import aiohttp

    url = base_url.rstrip("/") + "/api/status"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
            session.get(url, headers={"Authorization": f"Bearer {token}"}) as resp,
        ):
            body = await resp.json(content_type=None)
            if resp.status != 200:
                errors = "; ".join(e.get("message", "") for e in body.get("errors", []))
                raise click.ClickException(f"{url} answered {resp.status}: {errors}")
            return dict(body)
    except aiohttp.ClientError as exc:
        raise click.ClickException(f"cannot reach {url}: {exc}") from None


async def _stored_status(settings: Settings) -> dict[str, Any]:
    """What the store alone tells, in the shape of the running service's status."""
    from syndicate.service.status import collect_status

    async with _Stored(settings) as store:
        return await collect_status(settings, store, None, None, now=utc_now())


def _timer_tables(body: dict[str, Any]) -> list[str]:
    """The timer, what it left out, its jobs: what only a running service can tell."""
    timer = body["scheduler"]
    out = [
        f"\ntimer: {'running' if timer.get('running') else 'off'}, "
        f"{'leader' if timer.get('leader') else 'not leading'}, "
        f"every {timer.get('interval_seconds')} s, "
        f"last error: {timer.get('last_error') or 'none'}"
    ]
    # Records left out of what they would break (status names them; the rest goes on).
    held_back = [
        [q["id"], q.get("stage", "schedule"), q["error"]] for q in timer.get("quarantined") or []
    ]
    held_back += [
        [s["section"], "render", w] for s in body["sections"] for w in s.get("warnings") or []
    ]
    if held_back:
        out.append("\nleft out or shortened:")
        out.append(table(["article / section", "stage", "why"], held_back))
    jobs = timer.get("jobs") or []
    if jobs:
        out.append(table(["job", "next run"], [[j["id"], j.get("next_run") or "-"] for j in jobs]))
    return out


def _waiting(section: dict[str, Any]) -> str:
    if not section.get("changes_waiting"):
        return "-"
    when = section.get("goes_out")
    return f"out {when[11:19]}" if when else "waiting"


def _status_tables(body: dict[str, Any], *, live: bool) -> str:
    """The status as tables: the running service's (`live`) or the store's, one shape."""

    def short(tag: str | None) -> str:
        return (tag or "").strip('"')[:10]

    heads = ["section", "items", "last generation", "ms", "rss etag", "changes", "last error"]
    rows = [
        [
            s["section"],
            s["items"],
            s.get("last_generation") or "never",
            s.get("milliseconds") if s.get("milliseconds") is not None else "-",
            short(s.get("etags", {}).get("rss.xml")),
            _waiting(s),
            s.get("last_error") or "",
        ]
        for s in body["sections"]
    ]
    out = [table(heads, rows)]
    if live:
        out += _timer_tables(body)
    else:
        out.append("\n(from the store; pass --token for the running service's own view)")
    totals = body.get("articles")
    if totals:
        out.append(
            f"\narticles: {totals['published']} published, {totals['held']} held "
            f"(embargoed or future-dated), {totals['withdrawn']} withdrawn"
        )
    pending = body.get("pending_releases") or []
    out.append(f"\npending embargo releases: {len(pending)}")
    for p in pending:
        out.append(f"  {p['release_at']}  {p['id']}  ({', '.join(p['sections'])})")
    return "\n".join(out)
