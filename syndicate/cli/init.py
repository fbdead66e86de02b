"""`syndicate init`: write the built-in, commented configuration to start from."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("path", default="syndicate.toml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def init(path: str, force: bool) -> None:
    """Write a commented syndicate.toml to start from (the built-in configuration)."""
    from syndicate.core.config import default_config_text

    target = Path(path)
    if target.exists() and not force:
        raise click.ClickException(f"{path} exists; keep it, or pass --force to replace it")
    target.write_text(default_config_text(), encoding="utf-8")
    click.echo(f"Wrote {path}: edit the sections and [syndicate] settings, then `syndicate serve`.")
