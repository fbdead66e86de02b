"""`syndicate bench`: the command-line entry of the benchmark (`syndicate.bench` runs it)."""

from __future__ import annotations

import logging

import click

from syndicate.cli._common import _settings


@click.command(context_settings={"ignore_unknown_options": True})
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
    from syndicate.bench.runner import run_bench

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
