"""What every command shares: settings from the context, one store per command, asyncio.run,
the configuration error's exit. No command lives here, and nothing here imports a command."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from syndicate.core.config import Settings, sqlite_folder
from syndicate.core.errors import ConfigError
from syndicate.store import open_store
from syndicate.store.base import Store

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


class _ConfigExit(click.ClickException):
    """A bad setting: one line on stderr (no usage text, no traceback), exit code 2."""

    exit_code = 2

    def __init__(self, error: ConfigError) -> None:
        super().__init__(f"configuration: {error.message}")


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


def _summary_line(totals: dict[str, int]) -> str:
    shown = {k: v for k, v in totals.items() if v or k == "rejected"}
    return "summary: " + ", ".join(f"{k} {v}" for k, v in shown.items())
