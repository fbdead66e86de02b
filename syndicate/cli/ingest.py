"""`syndicate ingest` and `syndicate validate`: one reading, checking and reporting path;
only whether the records are stored differs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from syndicate.cli._common import _run, _settings, _Stored, _summary_line
from syndicate.core.config import Settings
from syndicate.store.base import Store


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

    from syndicate.pipeline.ingest import ingest, parse_records, summarise

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


ingest = _file_command(
    True, "Validate and store articles from FILE(s): JSON object, array or NDJSON ('-': stdin)."
)
validate = _file_command(False, "Check articles in FILE(s) without writing anything.")
