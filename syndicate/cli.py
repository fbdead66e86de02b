"""The `syndicate` command: serve, ingest, validate, regenerate, status, token, demo, bench.

Exit codes: 0 success, 1 when any record was rejected (or a section failed), 2 usage errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click

from syndicate.config import Settings, load_settings, sqlite_folder
from syndicate.errors import BadRequest, ConfigError, NotFound, SyndicateError
from syndicate.model import ROLES
from syndicate.store import open_store
from syndicate.store.base import Store
from syndicate.tables import table as _table

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


class _Stored:
    """An open store for the length of one command."""

    def __init__(self, settings: Settings) -> None:
        try:
            sqlite_folder(settings)
            self.store: Store = open_store(settings.database_url)
        except ConfigError as exc:
            raise _ConfigExit(exc) from None

    async def __aenter__(self) -> Store:
        await self.store.open()
        return self.store

    async def __aexit__(self, *exc: object) -> None:
        await self.store.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="SYNDICATE_CONFIG",
    help="Path to syndicate.toml (default: ./syndicate.toml when present).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail to stderr.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Syndicate: validated articles in; RSS, Atom, JSON Feed and NewsML-G2 out."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # APScheduler logs every job run at INFO: once a second with the release sync.
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbose else logging.WARNING)
    try:
        ctx.obj = {"settings": load_settings(config_path)}
    except ConfigError as exc:
        raise _ConfigExit(exc) from None


class _ConfigExit(click.ClickException):
    """A bad setting: one line on stderr (no usage text, no traceback), exit code 2."""

    exit_code = 2

    def __init__(self, error: ConfigError) -> None:
        super().__init__(f"configuration: {error.message}")


# -- serve -----------------------------------------------------------------------------
@main.command()
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


# -- ingest / validate ------------------------------------------------------------------
def _read_inputs(files: tuple[str, ...]) -> list[tuple[str, str]]:
    texts = []
    for name in files:
        if name == "-":
            texts.append(("<stdin>", sys.stdin.read()))
            continue
        try:
            texts.append((name, Path(name).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise click.BadParameter(f"no such file: {name}", param_hint="FILE") from None
        except UnicodeDecodeError:
            raise click.BadParameter(f"{name} is not UTF-8 text", param_hint="FILE") from None
    return texts


def _print_result(
    result: Any, as_json: bool, quiet: bool, echo: Callable[[str], None] = click.echo
) -> None:
    if as_json:
        echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    if quiet and result.outcome != "rejected":
        return
    where = f"{result.source}:{result.line}" if result.source else str(result.line)
    line = f"{where}\t{result.id or '-'}\t{result.outcome}"
    if result.errors:
        line += "\t" + "; ".join(f"{e.path or '/'}: {e.message}" for e in result.errors)
    echo(line)


async def _ingest_files(
    settings: Settings,
    files: tuple[str, ...],
    *,
    write: bool,
    as_json: bool,
    quiet: bool,
) -> dict[str, int]:
    from tqdm import tqdm

    from syndicate.ingest import ingest, parse_records, summarise

    inputs = _read_inputs(files)
    totals: dict[str, int] = {}
    # A progress bar on a terminal only; piped output stays clean.
    with tqdm(
        unit="rec", desc="ingest" if write else "validate", disable=None, file=sys.stderr
    ) as bar:

        def echo(line: str) -> None:
            # Through the bar when it is shown, so lines and the bar do not overwrite each other.
            if bar.disable:
                click.echo(line)
            else:
                bar.write(line, file=sys.stdout)

        def on_result(result: Any) -> None:
            bar.update(1)
            _print_result(result, as_json, quiet, echo)

        async def run(store: Store | None) -> None:
            for source, text in inputs:
                results = await ingest(
                    parse_records(text), settings, store, source=source, on_result=on_result
                )
                for key, n in summarise(results).items():
                    totals[key] = totals.get(key, 0) + n

        if write:
            async with _Stored(settings) as store:
                await run(store)
        else:
            await run(None)
    return totals


def _summary_line(totals: dict[str, int]) -> str:
    shown = {k: v for k, v in totals.items() if v or k == "rejected"}
    return "summary: " + ", ".join(f"{k} {v}" for k, v in shown.items())


def _file_command(write: bool, help_text: str) -> click.Command:
    """`ingest` and `validate`: the same reading, checking and reporting; only `write` differs."""

    @click.argument("files", nargs=-1, required=True)
    @click.option("--json", "as_json", is_flag=True, help="One JSON result per record (NDJSON).")
    @click.option(
        "-q", "--quiet", is_flag=True, help="Print only rejected records and the summary."
    )
    @click.pass_context
    def command(ctx: click.Context, files: tuple[str, ...], as_json: bool, quiet: bool) -> None:
        settings = _settings(ctx)
        totals = _run(_ingest_files(settings, files, write=write, as_json=as_json, quiet=quiet))
        click.echo(_summary_line(totals), err=as_json)
        ctx.exit(1 if totals.get("rejected") else 0)

    command.__doc__ = help_text
    return click.command(name="ingest" if write else "validate")(command)


main.add_command(
    _file_command(
        True,
        "Validate and store articles from FILE(s): JSON object, array or NDJSON ('-': stdin).",
    )
)
main.add_command(_file_command(False, "Check articles in FILE(s) without writing anything."))


# -- regenerate / status ------------------------------------------------------------------
@main.command()
@click.option(
    "--section", "sections", multiple=True, help="A section slug (repeatable); default all."
)
@click.pass_context
def regenerate(ctx: click.Context, sections: tuple[str, ...]) -> None:
    """Render the feeds now and print what changed."""
    from syndicate.regenerate import Regenerator
    from syndicate.served import FeedCache

    settings = _settings(ctx)

    async def run() -> list[Any]:
        async with _Stored(settings) as store:
            regenerator = Regenerator(settings, store, FeedCache())
            await regenerator.load_published()
            results = await regenerator.regenerate(list(sections))
            await regenerator.settle()
            return results

    try:
        results = _run(run())
    except SyndicateError as exc:
        raise click.UsageError(exc.message) from None
    rows = []
    for r in results:
        if r.error:
            rows.append([r.section, "-", "-", "-", "error", f"{r.milliseconds:.1f}", r.error])
        for f in r.formats:
            rows.append(
                [
                    r.section,
                    f.format,
                    f.items,
                    f.bytes,
                    "yes" if f.changed else "no",
                    f"{r.milliseconds:.1f}",
                    "",
                ]
            )
    click.echo(_table(["section", "format", "items", "bytes", "changed", "ms", "error"], rows))
    ctx.exit(1 if any(r.error for r in results) else 0)


@main.command()
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
    click.echo(_status_tables(body))


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
    from syndicate.config import ALL_SECTION

    async with _Stored(settings) as store:
        now = datetime.now(UTC)
        docs = {(d.section, d.name): d for d in await store.load_feeds()}
        sections = []
        for slug in [*settings.section_slugs, ALL_SECTION]:
            generated = [d.generated for (s, _), d in docs.items() if s == slug]
            sections.append(
                {
                    "section": slug,
                    "items": await store.count(None if slug == ALL_SECTION else slug, now=now),
                    "last_generation": max(generated).isoformat() if generated else None,
                    "feeds": sorted(n for (s, n) in docs if s == slug),
                }
            )
        pending = [
            {"id": i, "release_at": w.isoformat(), "sections": list(s)}
            for i, w, s in await store.pending_releases()
        ]
        return {
            "now": now.isoformat(),
            "sections": sections,
            "pending_releases": pending,
            "articles": await store.totals(),
            "max_seq": await store.max_seq(),
            "scheduler": None,
        }


def _waiting(section: dict[str, Any]) -> str:
    if not section.get("changes_waiting"):
        return "-"
    when = section.get("goes_out")
    return f"out {when[11:19]}" if when else "waiting"


def _status_tables(body: dict[str, Any]) -> str:
    def short(tag: str | None) -> str:
        return (tag or "").strip('"')[:10]

    live = body.get("scheduler") is not None
    out = []
    if live:
        out.append(
            _table(
                [
                    "section",
                    "items",
                    "last generation",
                    "ms",
                    "rss etag",
                    "changes",
                    "last error",
                ],
                [
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
                ],
            )
        )
        timer = body["scheduler"]
        out.append(
            f"\ntimer: {'running' if timer.get('running') else 'off'}, "
            f"{'leader' if timer.get('leader') else 'not leading'}, "
            f"every {timer.get('interval_seconds')} s, "
            f"last error: {timer.get('last_error') or 'none'}"
        )
        # Records left out of what they would break (status names them; the rest goes on).
        held_back = [
            [q["id"], q.get("stage", "schedule"), q["error"]]
            for q in timer.get("quarantined") or []
        ]
        held_back += [
            [s["section"], "render", w] for s in body["sections"] for w in s.get("warnings") or []
        ]
        if held_back:
            out.append("\nleft out or shortened:")
            out.append(_table(["article / section", "stage", "why"], held_back))
        jobs = timer.get("jobs") or []
        if jobs:
            out.append(
                _table(["job", "next run"], [[j["id"], j.get("next_run") or "-"] for j in jobs])
            )
    else:
        out.append(
            _table(
                ["section", "items", "feeds stored", "last change"],
                [
                    [s["section"], s["items"], len(s["feeds"]), s["last_generation"] or "never"]
                    for s in body["sections"]
                ],
            )
        )
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


# -- tokens -------------------------------------------------------------------------------
@main.group()
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
    from syndicate.tokens import MAX_NAME_LENGTH, new_token, parse_duration

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
            now = datetime.now(UTC)
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
    now = datetime.now(UTC).isoformat()
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
    click.echo(_table(["name", "role", "sections", "created", "expires", "last_used"], rows))


@token.command("revoke")
@click.argument("name")
@click.pass_context
def token_revoke(ctx: click.Context, name: str) -> None:
    """Revoke the token(s) named NAME: refused from the next request on, on every process."""
    settings = _settings(ctx)

    async def run() -> int:
        async with _Stored(settings) as store:
            try:
                return await store.revoke_tokens(name, now=datetime.now(UTC))
            except NotFound as exc:
                raise click.ClickException(exc.message) from None

    click.echo(f"revoked {_run(run())} token(s) named {name!r}")


@token.command("rotate")
@click.argument("name")
@click.pass_context
def token_rotate(ctx: click.Context, name: str) -> None:
    """Give the token named NAME a new secret (printed once), same grants; the old one ends."""
    from syndicate.tokens import new_token

    settings = _settings(ctx)
    secret, digest = new_token()

    async def run() -> None:
        async with _Stored(settings) as store:
            try:
                await store.rotate_token(name, digest, now=datetime.now(UTC))
            except NotFound as exc:
                raise click.ClickException(exc.message) from None

    _run(run())
    click.echo(secret)


# -- partner push -------------------------------------------------------------------------
@main.group()
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
    from syndicate.push import subscribe

    settings = _settings(ctx)
    slugs = tuple(s.strip() for s in sections.split(",") if s.strip())

    async def run() -> Any:
        async with _Stored(settings) as store:
            try:
                return await subscribe(store, partner_name, url, fmt, slugs)
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
    from syndicate.status import push_status

    settings = _settings(ctx)

    async def run() -> list[dict[str, Any]]:
        async with _Stored(settings) as store:
            return await push_status(store, None, datetime.now(UTC))

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
        _table(
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
                await store.remove_destination(destination, now=datetime.now(UTC))
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
    from syndicate.push import replay

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


# -- init ---------------------------------------------------------------------------------
@main.command()
@click.argument("path", default="syndicate.toml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def init(path: str, force: bool) -> None:
    """Write a commented syndicate.toml to start from (the built-in configuration)."""
    from syndicate.config import default_config_text

    target = Path(path)
    if target.exists() and not force:
        raise click.ClickException(f"{path} exists; keep it, or pass --force to replace it")
    target.write_text(default_config_text(), encoding="utf-8")
    click.echo(f"Wrote {path}: edit the sections and [syndicate] settings, then `syndicate serve`.")


# -- demo ---------------------------------------------------------------------------------
@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Load the demo articles (idempotent), generate the feeds, print a token and URLs."""
    from syndicate.ingest import ingest as ingest_records
    from syndicate.ingest import parse_records, summarise
    from syndicate.regenerate import Regenerator
    from syndicate.served import FeedCache
    from syndicate.tokens import new_token

    settings = _settings(ctx)
    text = resources.files("syndicate").joinpath("demo/articles.json").read_text("utf-8")
    secret, digest = new_token()

    async def run() -> dict[str, int]:
        async with _Stored(settings) as store:
            results = await ingest_records(parse_records(text), settings, store, source="demo")
            regenerator = Regenerator(settings, store, FeedCache())
            await regenerator.load_published()
            await regenerator.regenerate()
            await regenerator.settle()
            await store.add_token(
                name="demo editor", role="editor", token_hash=digest, now=datetime.now(UTC)
            )
            return summarise(results)

    totals = _run(run())
    base = settings.base_url
    click.echo(f"Demo articles: {_summary_line(totals)[9:]}")
    click.echo(f"Editor token (shown once): {secret}")
    click.echo("Try:")
    click.echo(f"  {base}/                      the feeds, by section")
    click.echo(f"  {base}/feeds/global/rss.xml  the Hindi 'Global' section as RSS")
    click.echo(f"  {base}/feeds/all/feed.json   every section as JSON Feed")
    click.echo(f"  curl -H 'Authorization: Bearer {secret}' {base}/api/status")
    if totals.get("rejected"):
        ctx.exit(1)


# -- bench --------------------------------------------------------------------------------
@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--quick", is_flag=True, help="A small run that finishes in under a minute.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write figures here.")
@click.option("--articles", type=int, default=None, help="Corpus size (default 20,000).")
@click.option("--seed", type=int, default=1, help="Seed of the synthetic corpus.")
@click.option(
    "--database-url",
    default=None,
    help="Bench PostgreSQL (postgresql://...) in fresh schemas dropped afterwards; "
    "default a temporary SQLite file.",
)
@click.pass_context
def bench(
    ctx: click.Context,
    quick: bool,
    json_path: str | None,
    articles: int | None,
    seed: int,
    database_url: str | None,
) -> None:
    """Measure ingest, regeneration and serving on a temporary store; print a table."""
    # Hundreds of regenerations are timed: their per-run log lines would bury the table.
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("syndicate").setLevel(logging.WARNING)
    from syndicate.bench import run_bench

    if database_url and not database_url.startswith(("postgresql:", "postgres:")):
        raise click.BadParameter("expected postgresql://...", param_hint="--database-url")
    code = run_bench(
        _settings(ctx),
        quick=quick,
        json_path=json_path,
        articles=articles,
        seed=seed,
        database_url=database_url,
    )
    ctx.exit(code)
