"""The benchmark's workspace: its plan sizes, settings for its 20 sections, stores to fill."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syndicate.bench import corpus
from syndicate.core.config import Settings, settings_from_mapping
from syndicate.store.base import Store


@dataclass(frozen=True, slots=True)
class Plan:
    """How big each measurement is; `--quick` shrinks every step to finish in a minute."""

    corpus: int
    small_store: int
    large_store: int
    load_seconds: float
    repeats: int
    releases: int  # embargoes released and timed in a running server
    saves: int  # articles saved through the API and timed until served
    wide_sections: int  # sections in the wide full pass
    push_destinations: int  # destinations pushed to at once
    push_items: int  # articles pushed to every destination


FULL = Plan(
    corpus=20_000,
    small_store=10_000,
    large_store=100_000,
    load_seconds=5.0,
    repeats=15,
    releases=20,
    saves=20,
    wide_sections=500,
    push_destinations=20,
    push_items=50,
)
QUICK = Plan(
    corpus=2_000,
    small_store=2_000,
    large_store=10_000,
    load_seconds=2.0,
    repeats=9,
    releases=3,
    saves=3,
    wide_sections=60,
    push_destinations=5,
    push_items=10,
)


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def bench_settings(
    workdir: Path, database_url: str | None, *, sections: int = corpus.SECTION_COUNT, **extra: Any
) -> tuple[Settings, Path]:
    """Settings for `sections` bench sections, a store and feeds folder inside `workdir`.

    The file is written too (`syndicate.toml` in `workdir`), for a server started on it.
    """
    slugs = corpus.SECTIONS if sections == corpus.SECTION_COUNT else corpus.section_slugs(sections)
    data: dict[str, Any] = {
        "syndicate": {
            "database_url": database_url or f"sqlite:///{workdir / 'bench.db'}",
            "feeds_dir": str(workdir / "feeds"),
            "regen_interval": 300,
            "run_scheduler": False,
            "site_title": "Syndicate bench",
            **extra,
        },
        "sections": {
            slug: {
                "title": {"en": f"Section {slug}", "hi": f"खंड {slug}"},
                "description": {"en": f"Bench section {slug}"},
                "language": "hi" if n % 2 else "en",
                "limit": 50,
            }
            for n, slug in enumerate(slugs)
        },
    }
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "syndicate.toml"
    config.write_text(_toml(data), encoding="utf-8")
    return settings_from_mapping(data, {}), config


def _toml(data: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return json.dumps(str(v), ensure_ascii=False)

    lines = ["[syndicate]"]
    lines += [f"{k} = {value(v)}" for k, v in data["syndicate"].items()]
    for slug, body in data["sections"].items():
        lines.append(f"\n[sections.{slug}]")
        lines += [f"{k} = {value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


async def fill(
    store: Store, start: int, count: int, seed: int, sections: tuple[str, ...] = corpus.SECTIONS
) -> None:
    """Pre-validated records straight into the store: building a big store, not measuring."""
    batch: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    for record in corpus.corpus(count, seed=seed, start=start, sections=sections):
        batch.append(record)
        if len(batch) == 1000:
            await store.put_many(batch, now=now)
            batch = []
    if batch:
        await store.put_many(batch, now=now)


@contextmanager
def fresh_schemas(database_url: str | None, count: int = 2) -> Iterator[list[str | None]]:
    """PostgreSQL: `count` new schemas on the server, dropped at the end; SQLite: Nones."""
    if not database_url:
        yield [None] * count
        return
    from syndicate.store.postgres import drop_schema, with_schema

    tag = f"syndicate_bench_{os.getpid()}_{int(time.time())}"
    urls: list[str | None] = [with_schema(database_url, f"{tag}_{n}") for n in range(count)]
    say(f"PostgreSQL schemas {tag}_0…{count - 1} (dropped at the end)")
    try:
        yield urls
    finally:
        for url in urls:
            assert url is not None
            asyncio.run(drop_schema(url))


def store_url(workdir: Path, database_url: str | None) -> str:
    return database_url or f"sqlite:///{workdir / 'bench.db'}"
