"""`syndicate bench`: runs every measurement in order, prints the table, writes the JSON.

Stores are temporary (SQLite files, or fresh PostgreSQL schemas dropped at the end).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syndicate.bench import corpus, live, regeneration, serving
from syndicate.bench.embargo import measure_release_delays
from syndicate.bench.report import NGINX_FIGURES, TARGETS, format_table, machine
from syndicate.bench.tags import measure_tag_feeds
from syndicate.bench.workspace import FULL, QUICK, Plan, bench_settings, fill, fresh_schemas, say
from syndicate.core.config import Settings
from syndicate.core.tokens import new_token
from syndicate.pipeline.ingest import ingest, parse_ndjson, summarise
from syndicate.store import open_store
from syndicate.store.base import Store

__all__ = ["FULL", "QUICK", "TARGETS", "Plan", "format_table", "run_bench"]


async def _measure_ingest(settings: Settings, store: Store, count: int, seed: int) -> float:
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in corpus.corpus(count, seed=seed))
    started = time.perf_counter()
    results = await ingest(parse_ndjson(text), settings, store)
    elapsed = time.perf_counter() - started
    counts = summarise(results)
    if counts["rejected"]:
        raise RuntimeError(f"bench corpus rejected {counts['rejected']} records: {results[0]}")
    return count / elapsed


async def _measure_newsml(store: Store, settings: Settings, repeats: int) -> float:
    from syndicate.render.newsml import PartnerContext, render_news_message

    articles = await store.latest("s01", 50, now=datetime.now(UTC))
    ctx = PartnerContext.from_settings(settings)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        render_news_message(
            ctx,
            articles,
            sent=datetime.now(UTC),
            transmit_id="bench",
            next_cursor=None,
            embargoed_view=False,
        )
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _opened(url: str) -> Store:
    store = open_store(url)
    await store.open()
    return store


async def _ingest_and_passes(
    plan: Plan, workdir: Path, url: str | None, seed: int
) -> dict[str, Any]:
    """Ingest the corpus; a cold full pass over it; the dirty pass; NewsML rendering."""
    settings, _ = bench_settings(workdir, url)
    store = await _opened(settings.database_url)
    figures: dict[str, Any] = {}
    try:
        say(f"ingesting {plan.corpus:,} generated records (validate + store)…")
        figures["ingest_records_per_s"] = await _measure_ingest(settings, store, plan.corpus, seed)
        say("indexing tags, authors and archives of the new records (once)…")
        started = time.perf_counter()
        await store.index_changes()  # else the first regeneration below would pay it
        figures["reach_index_s"] = time.perf_counter() - started
        say("full pass, cold: every section, every format…")
        full = await regeneration.full_pass(settings, store)
        figures["full_regeneration_s"] = full["seconds"]
        figures["full_pass_ms_per_doc"] = full["ms_per_doc"]
        figures["full_pass_warm_ms_per_doc"] = full["warm_ms_per_doc"]
        figures["full_regeneration_documents"] = full["documents"]
        say("dirty passes after one new article…")
        figures["dirty_pass_ms"] = await regeneration.dirty_pass_ms(
            settings, store, "s01", plan.repeats, seed
        )
        figures["newsml_50_items_ms"] = await _measure_newsml(store, settings, plan.repeats * 3)
        say("tag feeds: cold renders on demand, then warm serving under load…")
        regen = regeneration.regenerator(settings, store)
        try:
            await regen.regenerate()
            await regen.settle()
            figures.update(
                await measure_tag_feeds(settings, store, regen, plan.repeats, plan.load_seconds)
            )
        finally:
            regen.pool.close()
    finally:
        await store.close()
    return figures


async def _scaling(
    plan: Plan, workdir: Path, url: str | None, seed: int
) -> tuple[dict[str, Any], str]:
    """One section on a small then a large store; leaves every feed stored for the server,
    and an editor token (returned) for the readers' measurement."""
    settings, _ = bench_settings(workdir, url)
    store = await _opened(settings.database_url)
    figures: dict[str, Any] = {}
    try:
        say(f"building a {plan.small_store:,}-article store…")
        await fill(store, 0, plan.small_store, seed + 1)
        figures["section_regeneration_ms_small"] = await regeneration.section_ms(
            settings, store, "s01", plan.repeats
        )
        say(f"growing it to {plan.large_store:,} articles…")
        await fill(store, plan.small_store, plan.large_store - plan.small_store, seed + 1)
        figures["section_regeneration_ms_large"] = await regeneration.section_ms(
            settings, store, "s01", plan.repeats
        )
        small = figures["section_regeneration_ms_small"]
        figures["section_regeneration_growth_pct"] = abs(
            (figures["section_regeneration_ms_large"] - small) / small * 100
        )
        figures["store_small"] = plan.small_store
        figures["store_large"] = plan.large_store
        regen = regeneration.regenerator(settings, store)
        await regen.regenerate()  # every feed in the store for the server to load
        await regen.settle()
        regen.pool.close()
        secret, digest = new_token()
        await store.add_token(name="bench", role="editor", token_hash=digest, now=datetime.now(UTC))
    finally:
        await store.close()
    return figures, secret


async def _wide(plan: Plan, workdir: Path, url: str | None, seed: int) -> dict[str, Any]:
    """A cold full pass over many sections on a large store."""
    settings, _ = bench_settings(workdir, url, sections=plan.wide_sections)
    store = await _opened(settings.database_url)
    try:
        say(f"building a {plan.large_store:,}-article store in {plan.wide_sections} sections…")
        await fill(store, 0, plan.large_store, seed + 2, settings.section_slugs)
        # Indexed first, as for the 20-section pass: indexing a bulk load once is not a pass.
        await store.index_changes()
        say(f"full pass, cold: {plan.wide_sections} sections…")
        full = await regeneration.full_pass(settings, store)
    finally:
        await store.close()
    return {
        "wide_full_pass_s": full["seconds"],
        "wide_full_pass_ms_per_doc": full["ms_per_doc"],
        "wide_full_pass_warm_ms_per_doc": full["warm_ms_per_doc"],
    }


def _serving(plan: Plan, config: Path, url: str | None, token: str) -> dict[str, Any]:
    env = {"SYNDICATE_DATABASE_URL": url} if url else {}
    say(f"serving one feed for {plan.load_seconds:g}s as gzip 200 and as 304…")
    with serving.running_server(config, env) as (base, pid):
        figures = serving.measure_serving(base, pid, plan.load_seconds)
    say("the same feed from the feeds folder by nginx…")
    figures.update(
        serving.measure_nginx(config.parent / "feeds", plan.load_seconds, config.parent / "nginx")
    )
    say("readers' latency while every section is regenerated back to back…")
    with serving.running_server(config, env | {"SYNDICATE_RENDER_CACHE_MB": "0"}) as (base, _):
        figures.update(serving.measure_readers_during_regeneration(base, token, plan.load_seconds))
    return figures


def run_bench(
    settings: Settings,
    *,
    quick: bool,
    json_path: str | None,
    articles: int | None,
    seed: int,
    database_url: str | None = None,
) -> int:
    """Run every measurement, print the table, write JSON; 0 when every figure was produced."""
    del settings  # the bench builds its own, for its own sections and temporary stores
    plan = QUICK if quick else FULL
    if articles:
        plan = dataclasses.replace(plan, corpus=articles)
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="syndicate-bench-") as tmp,
        fresh_schemas(database_url, 3) as (url_a, url_b, url_c),
    ):
        workdir = Path(tmp)
        figures = asyncio.run(_ingest_and_passes(plan, workdir / "a", url_a, seed))
        scaled, token = asyncio.run(_scaling(plan, workdir / "b", url_b, seed))
        figures.update(scaled)
        figures.update(_serving(plan, workdir / "b" / "syndicate.toml", url_b, token))
        figures.update(asyncio.run(_wide(plan, workdir / "c", url_c, seed)))
    say(f"releasing {plan.releases} embargoed articles in a running app…")
    delays = asyncio.run(measure_release_delays(plan.releases))
    figures["embargo_release_median_ms"] = delays["median_ms"]
    figures["embargo_release_worst_ms"] = delays["worst_ms"]
    figures["embargo_released_early"] = delays.get("early", 0.0)
    say(f"saving {plan.saves} articles and waiting for each to be served…")
    saves = asyncio.run(live.measure_save_to_served(plan.saves))
    figures["save_to_served_median_ms"] = saves["median_ms"]
    figures["save_to_served_worst_ms"] = saves["worst_ms"]
    say(f"pushing to {plan.push_destinations} receivers…")
    push = asyncio.run(live.measure_push(plan.push_destinations, plan.push_items))
    figures["push_delay_median_ms"] = push["delay_median_ms"]
    figures["push_delay_worst_ms"] = push["delay_worst_ms"]
    figures["push_deliveries_per_s"] = push["deliveries_per_s"]
    figures["total_seconds"] = time.perf_counter() - started
    report = {
        "plan": dataclasses.asdict(plan),
        "store": "postgresql" if database_url else "sqlite",
        "machine": machine(),
        "figures": figures,
    }
    print(format_table(report))
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2), encoding="utf-8")
    from syndicate.pipeline.nginx import nginx_binary

    optional = NGINX_FIGURES if nginx_binary() is None else frozenset()
    missing = [
        k for k in TARGETS if k not in optional and not isinstance(figures.get(k), int | float)
    ]
    if missing:
        say("figures not produced: " + ", ".join(missing))
        return 1
    return 0
