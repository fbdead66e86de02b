"""`syndicate import page` and `syndicate import feed`: scraped pages and existing feeds in,
through `syndicate.pipeline.imports` (the path the editor API uses too). Progress, a result line per
item and exit codes as `syndicate ingest` has them; `--dry-run` stores nothing."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from syndicate.cli._common import _run, _settings, _Stored, _summary_line
from syndicate.core.config import Settings
from syndicate.store.base import Store

_WIDTH = 16  # the field-name column of a dry run


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except FileNotFoundError:
        raise click.BadParameter(f"no such file: {name}", param_hint="FILE") from None
    except IsADirectoryError:
        raise click.BadParameter(f"{name} is a folder, not a file", param_hint="FILE") from None


def _check_section(settings: Settings, section: str | None) -> None:
    if section is not None and settings.section(section) is None:
        declared = ", ".join(settings.section_slugs) or "none"
        raise click.BadParameter(
            f"{section!r} is not a declared section ({declared})", param_hint="--section"
        )


def _published(value: str | None) -> datetime | None:
    from syndicate.core.model import parse_time
    from syndicate.validate import ecma_pattern, load_schema

    if value is None:
        return None
    pattern = ecma_pattern(load_schema()["$defs"]["date_time"]["pattern"])
    try:
        if pattern.search(value) is None:
            raise ValueError("not RFC 3339 with an offset")
        return parse_time(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an RFC 3339 time with an offset, e.g. 2024-06-19T10:00:00+05:30",
            param_hint="--published",
        ) from None


def _short(value: Any, width: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _field_lines(result: Any) -> list[str]:
    """A dry run's view of one result: every field of the record, then what was dropped."""
    pad = " " * _WIDTH
    lines = []
    for name, value in (result.record or {}).items():
        if name == "body_html":
            from syndicate.importing.fields import text_of

            paragraphs = value.count("<p>") + value.count("<p ")
            lines.append(f"{name:<{_WIDTH}}{paragraphs} paragraphs, {len(value)} characters")
            for n, part in enumerate(value.split("\n")[:20], start=1):
                lines.append(f"{pad}{n}. {_short(text_of(part), 80)}")
        elif name == "related":
            for n, item in enumerate(value, start=1):
                link = item.get("url", "(no link)")
                label = name if n == 1 else ""
                lines.append(f"{label:<{_WIDTH}}{n}. {_short(item['title'], 70)} -> {link}")
        else:
            lines.append(f"{name:<{_WIDTH}}{_short(value)}")
    if result.section_hints:
        lines.append(f"{'section hints':<{_WIDTH}}{', '.join(result.section_hints)}")
    for n, dropped in enumerate(result.dropped):
        label = "dropped" if n == 0 else ""
        lines.append(f"{label:<{_WIDTH}}{_short(dropped.text, 50)!r}: {dropped.reason}")
    for n, note in enumerate(result.notes):
        lines.append(f"{'notes' if n == 0 else '':<{_WIDTH}}{note}")
    for n, error in enumerate(result.errors):
        lines.append(f"{'errors' if n == 0 else '':<{_WIDTH}}{error.path or '/'}: {error.message}")
    return ["  " + line for line in lines]


def _printer(as_json: bool, dry_run: bool, echo: Callable[[str], None]) -> Callable[[Any], None]:
    def show(result: Any) -> None:
        if as_json:
            echo(json.dumps(result.as_dict(), ensure_ascii=False))
            return
        where = f"{result.source}:{result.position}"
        line = f"{where}\t{result.id or '-'}\t{result.outcome}"
        if result.errors:
            line += "\t" + "; ".join(f"{e.path or '/'}: {e.message}" for e in result.errors)
        elif result.outcome == "skipped" and result.notes:
            line += "\t" + result.notes[-1]
        echo(line)
        if dry_run:
            for detail in _field_lines(result):
                echo(detail)

    return show


async def _import(
    settings: Settings,
    work: Callable[[Store | None, Callable[[Any], None], Any], Any],
    *,
    dry_run: bool,
    as_json: bool,
    unit: str,
) -> dict[str, int]:
    from tqdm import tqdm

    totals: dict[str, int] = {}
    with tqdm(unit=unit, desc="import", disable=None, file=sys.stderr) as bar:

        def echo(line: str) -> None:
            if bar.disable:
                click.echo(line)
            else:
                bar.write(line, file=sys.stdout)

        show = _printer(as_json, dry_run, echo)

        def on_result(result: Any) -> None:
            bar.update(1)
            totals[result.outcome] = totals.get(result.outcome, 0) + 1
            show(result)

        if dry_run:
            await work(None, on_result, bar)
        else:
            async with _Stored(settings) as store:
                await work(store, on_result, bar)
    return totals


def _finish(ctx: click.Context, totals: dict[str, int], as_json: bool, dry_run: bool) -> None:
    totals.setdefault("rejected", 0)
    line = _summary_line(totals) + (" (dry run: nothing stored)" if dry_run else "")
    click.echo(line, err=as_json)
    ctx.exit(1 if totals.get("rejected") else 0)


@click.group(name="import")
def import_group() -> None:
    """Bring in scraped article pages and existing feeds (RSS, Atom, JSON Feed, WordPress)."""


_DRY_RUN = click.option(
    "--dry-run", is_flag=True, help="Show what would be stored, field by field; store nothing."
)
_JSON = click.option("--json", "as_json", is_flag=True, help="One JSON object a line per item.")


@import_group.command(name="page")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--section",
    "sections",
    multiple=True,
    help="A section slug; repeat for more (default: the sections the page names).",
)
@click.option("--language", help="The BCP 47 language (default: detected from the text).")
@click.option("--url", help="The article's own URL, when the page does not say it.")
@click.option("--published", help="RFC 3339 publication time, when the page does not say it.")
@_DRY_RUN
@_JSON
@click.pass_context
def page(
    ctx: click.Context,
    files: tuple[str, ...],
    sections: tuple[str, ...],
    language: str | None,
    url: str | None,
    published: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import scraped article pages (HTML or plain text) from FILE(s) ('-': stdin)."""
    from syndicate.core.errors import FieldError
    from syndicate.importing.fields import http_url
    from syndicate.importing.page import MAX_PAGE_BYTES, decode, page_kind
    from syndicate.pipeline.imports import ImportResult, PageOptions, import_page

    settings = _settings(ctx)
    for section in sections:
        _check_section(settings, section)
    if url is not None and (len(files) != 1 or http_url(url) != url):
        problem = (
            "names one page's URL: give one FILE" if len(files) != 1 else "is not an http(s) URL"
        )
        raise click.BadParameter(f"{url!r} {problem}", param_hint="--url")
    options = PageOptions(sections, language, url, _published(published))
    inputs = [(name, _read(name)) for name in files]

    async def work(store: Store | None, on_result: Callable[[Any], None], bar: Any) -> None:
        bar.total = len(inputs)
        for name, data in inputs:
            source = "<stdin>" if name == "-" else name
            if len(data) > MAX_PAGE_BYTES:
                message = f"the page is {len(data)} bytes, at most {MAX_PAGE_BYTES}"
                on_result(ImportResult(source, 1, "rejected", errors=[FieldError("", message)]))
                continue
            kind = page_kind(data, name)
            now = datetime.now(UTC)
            result = await import_page(
                source, decode(data), kind, settings, store, options, now=now
            )
            on_result(result)

    totals = _run(_import(settings, work, dry_run=dry_run, as_json=as_json, unit="page"))
    _finish(ctx, totals, as_json, dry_run)


@import_group.command(name="feed")
@click.argument("files", nargs=-1, required=True)
@click.option("--section", required=True, help="The section slug the items go to.")
@_DRY_RUN
@_JSON
@click.pass_context
def feed(
    ctx: click.Context, files: tuple[str, ...], section: str, dry_run: bool, as_json: bool
) -> None:
    """Import the items of RSS 2.0, Atom 1.0, JSON Feed or WordPress export FILE(s), keeping
    their GUIDs ('-': stdin)."""
    from syndicate.core.errors import FieldError
    from syndicate.importing.feed import NotAFeed, read_feed
    from syndicate.pipeline.imports import ImportResult, import_feed

    settings = _settings(ctx)
    _check_section(settings, section)
    inputs = [(name, _read(name)) for name in files]

    async def work(store: Store | None, on_result: Callable[[Any], None], bar: Any) -> None:
        for name, data in inputs:
            source = "<stdin>" if name == "-" else name
            try:
                document = read_feed(data)
            except NotAFeed as exc:
                on_result(ImportResult(source, 0, "rejected", errors=[FieldError("", str(exc))]))
                continue
            bar.total = (bar.total or 0) + len(document.entries)
            bar.refresh()
            now = datetime.now(UTC)
            await import_feed(
                source, document, settings, store, section, now=now, on_result=on_result
            )

    totals = _run(_import(settings, work, dry_run=dry_run, as_json=as_json, unit="item"))
    _finish(ctx, totals, as_json, dry_run)
