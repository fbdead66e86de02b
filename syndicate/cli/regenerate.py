"""`syndicate regenerate`: the one regeneration path, run now, with a table of what changed."""

from __future__ import annotations

from typing import Any

import click

from syndicate.cli._common import _run, _settings, _Stored
from syndicate.core.errors import SyndicateError
from syndicate.core.tables import table


@click.command()
@click.option(
    "--section", "sections", multiple=True, help="A section slug (repeatable); default all."
)
@click.pass_context
def regenerate(ctx: click.Context, sections: tuple[str, ...]) -> None:
    """Render the feeds now and print what changed."""
    from syndicate.pipeline.regenerate import Regenerator
    from syndicate.pipeline.served import FeedCache

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
    click.echo(table(["section", "format", "items", "bytes", "changed", "ms", "error"], rows))
    ctx.exit(1 if any(r.error for r in results) else 0)
