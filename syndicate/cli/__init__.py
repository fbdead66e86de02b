"""The `syndicate` command: serve, ingest, validate, import, regenerate, status, token, partner,
init, demo, bench, nginx-conf. This module holds the group and its global options; each command
lives in its own module.

Exit codes: 0 success, 1 when any record was rejected (or a section failed), 2 usage errors.
"""

from __future__ import annotations

import logging
import sys

import click

# The modules, not their commands: `syndicate.cli.status` must stay the module.
from syndicate.cli import (
    bench,
    demo,
    importing,
    ingest,
    init,
    nginx,
    partner,
    regenerate,
    serve,
    status,
    token,
)
from syndicate.cli._common import _ConfigExit
from syndicate.core.config import load_settings
from syndicate.core.errors import ConfigError


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


for _command in (
    serve.serve,
    ingest.ingest,
    ingest.validate,
    importing.import_group,
    regenerate.regenerate,
    status.status,
    token.token,
    partner.partner,
    init.init,
    demo.demo,
    bench.bench,
    nginx.nginx_conf,
):
    main.add_command(_command)

__all__ = ["main"]
