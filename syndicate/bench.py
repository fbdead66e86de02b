"""`syndicate bench`: ingest, regeneration, serving and rendering measured the same way
every time, on a temporary store and feeds folder, printed as a table (and JSON).

Benchmarks are not tests: nothing here asserts; targets are shown beside the figures.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from syndicate import benchcorpus
from syndicate.bench_embargo import measure_release_delays
from syndicate.bench_reach import measure_tag_feeds
from syndicate.config import Settings, settings_from_mapping
from syndicate.ingest import ingest, parse_ndjson, summarise
from syndicate.regenerate import Regenerator
from syndicate.served import FeedCache
from syndicate.store import open_store
from syndicate.store.base import Store
from syndicate.tables import table


@dataclass(frozen=True, slots=True)
class Plan:
    """How big each measurement is; `--quick` shrinks every step to finish in a minute."""

    corpus: int
    small_store: int
    large_store: int
    load_seconds: float
    repeats: int
    releases: int  # embargoes released and timed in a running server


FULL = Plan(
    corpus=20_000,
    small_store=10_000,
    large_store=100_000,
    load_seconds=5.0,
    repeats=15,
    releases=20,
)
QUICK = Plan(
    corpus=2_000, small_store=2_000, large_store=10_000, load_seconds=2.0, repeats=9, releases=3
)

# (figure, unit, target, "higher"/"lower" is better)
TARGETS: dict[str, tuple[str, float | None, str]] = {
    "ingest_records_per_s": ("records/s", 2000, "higher"),
    "full_regeneration_s": ("s", 1.0, "lower"),
    "section_regeneration_ms_small": ("ms", 30, "lower"),
    "section_regeneration_ms_large": ("ms", 30, "lower"),
    "section_regeneration_growth_pct": ("%", 20, "lower"),
    "serve_gzip_rps": ("req/s", 3000, "higher"),
    "serve_gzip_p50_ms": ("ms", None, "lower"),
    "serve_gzip_p99_ms": ("ms", None, "lower"),
    "serve_304_rps": ("req/s", 5000, "higher"),
    "serve_304_p50_ms": ("ms", None, "lower"),
    "serve_304_p99_ms": ("ms", None, "lower"),
    "server_peak_rss_mb": ("MB", 150, "lower"),
    "newsml_50_items_ms": ("ms", 50, "lower"),
    "embargo_release_median_ms": ("ms", 2000, "lower"),
    "embargo_release_worst_ms": ("ms", 2000, "lower"),
    "reach_index_s": ("s", None, "lower"),
    "tag_feed_cold_ms": ("ms", 20, "lower"),
    "tag_feed_warm_rps": ("req/s", None, "higher"),
    "tag_feed_warm_p50_ms": ("ms", None, "lower"),
    "section_feed_warm_rps": ("req/s", None, "higher"),
}


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def bench_settings(workdir: Path, database_url: str | None) -> tuple[Settings, Path]:
    """Settings for 20 bench sections, a store and feeds folder inside `workdir`."""
    sections = {
        slug: {
            "title": {"en": f"Section {slug}", "hi": f"खंड {slug}"},
            "description": {"en": f"Bench section {slug}"},
            "language": "hi" if n % 2 else "en",
            "limit": 50,
        }
        for n, slug in enumerate(benchcorpus.SECTIONS)
    }
    url = database_url or f"sqlite:///{workdir / 'bench.db'}"
    data = {
        "syndicate": {
            "database_url": url,
            "feeds_dir": str(workdir / "feeds"),
            "regen_interval": 300,
            "run_scheduler": False,
            "site_title": "Syndicate bench",
        },
        "sections": sections,
    }
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


async def _measure_ingest(settings: Settings, store: Store, count: int, seed: int) -> float:
    text = "\n".join(
        json.dumps(r, ensure_ascii=False) for r in benchcorpus.corpus(count, seed=seed)
    )
    started = time.perf_counter()
    results = await ingest(parse_ndjson(text), settings, store)
    elapsed = time.perf_counter() - started
    counts = summarise(results)
    if counts["rejected"]:
        raise RuntimeError(f"bench corpus rejected {counts['rejected']} records: {results[0]}")
    return count / elapsed


async def _fill(store: Store, start: int, count: int, seed: int) -> None:
    """Pre-validated records straight into the store: building a big store, not measuring."""
    batch: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    for record in benchcorpus.corpus(count, seed=seed, start=start):
        batch.append(record)
        if len(batch) == 1000:
            await store.put_many(batch, now=now)
            batch = []
    if batch:
        await store.put_many(batch, now=now)


async def _section_ms(regenerator: Regenerator, section: str, repeats: int) -> float:
    """Median time to regenerate one section's three feeds, with changed bytes each time."""
    times = []
    for run in range(repeats + 2):
        regenerator.cache.drop(section)  # force render, compress, publish and save
        started = time.perf_counter()
        results = await regenerator.regenerate([section])
        if run >= 2:  # the first two warm caches (page cache, SQLite, lxml) and are not kept
            times.append((time.perf_counter() - started) * 1000)
        await regenerator.settle()  # background brotli must not bleed into the next run
        if results[0].error:
            raise RuntimeError(f"regenerating {section}: {results[0].error}")
    return statistics.median(times)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer {url} in time")


def _load(url: str, headers: list[str], seconds: float) -> dict[str, float]:
    """Load from a separate process: wrk when installed, else our own generator."""
    wrk = shutil.which("wrk")
    if wrk:
        cmd = [wrk, "-t1", "-c32", f"-d{max(1, int(seconds))}s", "--latency"]
        for h in headers:
            cmd += ["-H", h]
        out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
        return _parse_wrk(out)
    cmd = [sys.executable, "-m", "syndicate.loadgen", url, "--seconds", str(seconds)]
    cmd += ["--connections", "32"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    return {
        "rps": data["rps"],
        "p50_ms": data["p50_ms"],
        "p99_ms": data["p99_ms"],
        "statuses": data["statuses"],
    }


def _parse_wrk(out: str) -> dict[str, Any]:
    def ms(text: str) -> float:
        for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
            if text.endswith(unit):
                return float(text[: -len(unit)]) * factor
        return float(text)

    figures: dict[str, Any] = {}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = float(parts[1])
        elif len(parts) == 2 and parts[0] == "50%":
            figures["p50_ms"] = ms(parts[1])
        elif len(parts) == 2 and parts[0] == "99%":
            figures["p99_ms"] = ms(parts[1])
    figures["statuses"] = {}
    return figures


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _measure_serving(config: Path, env_extra: dict[str, str], seconds: float) -> dict[str, float]:
    port = _free_port()
    env = {**os.environ, **env_extra, "SYNDICATE_RUN_SCHEDULER": "0", "SYNDICATE_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicate", "--config", str(config), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    figures: dict[str, float] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(base + "/healthz", time.monotonic() + 30)
        url = f"{base}/feeds/s01/rss.xml"
        with urllib.request.urlopen(url, timeout=5) as resp:
            etag = resp.headers["ETag"]
        gz = _load(url, ["Accept-Encoding: gzip"], seconds)
        nm = _load(url, [f"If-None-Match: {etag}", "Accept-Encoding: gzip"], seconds)
        figures.update(
            serve_gzip_rps=gz["rps"],
            serve_gzip_p50_ms=gz["p50_ms"],
            serve_gzip_p99_ms=gz["p99_ms"],
            serve_304_rps=nm["rps"],
            serve_304_p50_ms=nm["p50_ms"],
            serve_304_p99_ms=nm["p99_ms"],
        )
        figures["server_peak_rss_mb"] = _peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return figures


async def _measure_newsml(store: Store, settings: Settings, repeats: int) -> float | None:
    try:
        from syndicate.render.newsml import PartnerContext, render_news_message
    except ImportError:
        return None
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


async def _run(plan: Plan, workdir: Path, database_url: str | None, seed: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    settings, _ = bench_settings(workdir / "a", database_url)
    store = open_store(settings.database_url)
    await store.open()
    try:
        _say(f"ingesting {plan.corpus:,} generated records (validate + store)…")
        figures["ingest_records_per_s"] = await _measure_ingest(settings, store, plan.corpus, seed)
        _say("indexing tags, authors and archives of the new records (once)…")
        started = time.perf_counter()
        await store.index_changes()  # else the first regeneration below would pay it
        figures["reach_index_s"] = time.perf_counter() - started
        _say("full regeneration: every section, every format…")
        regenerator = Regenerator(settings, store, FeedCache())
        started = time.perf_counter()
        results = await regenerator.regenerate()
        figures["full_regeneration_s"] = time.perf_counter() - started
        await regenerator.settle()  # brotli copies follow off the critical path
        figures["full_regeneration_documents"] = sum(len(r.formats) for r in results)
        figures["newsml_50_items_ms"] = await _measure_newsml(store, settings, plan.repeats * 3)
        _say("tag feeds: cold renders on demand, then warm serving under load…")
        figures.update(
            await measure_tag_feeds(settings, store, regenerator, plan.repeats, plan.load_seconds)
        )
    finally:
        await store.close()
    return figures


def machine() -> dict[str, Any]:
    libs: dict[str, str | None] = {}
    for name in ("aiohttp", "feedgen", "lxml", "aiosqlite", "asyncpg", "apscheduler", "jsonschema"):
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libs[name] = None
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_generator": "wrk" if shutil.which("wrk") else "syndicate.loadgen",
        "libraries": libs,
    }


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
    plan = QUICK if quick else FULL
    if articles:
        plan = dataclasses.replace(plan, corpus=articles)
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="syndicate-bench-") as tmp,
        _fresh_schemas(database_url) as (url_a, url_b),
    ):
        workdir = Path(tmp)
        (workdir / "a").mkdir()
        (workdir / "b").mkdir()
        figures = asyncio.run(_run(plan, workdir, url_a, seed))
        figures.update(asyncio.run(_scaling(plan, workdir, url_b, seed)))
        _say(f"serving one feed for {plan.load_seconds:g}s as gzip 200 and as 304…")
        _, config_b = bench_settings(workdir / "b", _scaling_url(workdir, url_b))
        env = {"SYNDICATE_DATABASE_URL": _scaling_url(workdir, url_b) or ""}
        figures.update(
            _measure_serving(config_b, {k: v for k, v in env.items() if v}, plan.load_seconds)
        )
    _say(f"releasing {plan.releases} embargoed articles in a running app…")
    delays = asyncio.run(measure_release_delays(plan.releases))
    figures["embargo_release_median_ms"] = delays["median_ms"]
    figures["embargo_release_worst_ms"] = delays["worst_ms"]
    figures["embargo_released_early"] = delays.get("early", 0.0)
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
    missing = [k for k in TARGETS if not isinstance(figures.get(k), int | float)]
    if missing:
        _say("figures not produced: " + ", ".join(missing))
        return 1
    return 0


@contextmanager
def _fresh_schemas(database_url: str | None) -> Iterator[tuple[str | None, str | None]]:
    """PostgreSQL: two new schemas (ingest, scaling) on the server, dropped at the end."""
    if not database_url:
        yield None, None
        return
    from syndicate.store.postgres import drop_schema, with_schema

    tag = f"syndicate_bench_{os.getpid()}_{int(time.time())}"
    urls = (with_schema(database_url, f"{tag}_a"), with_schema(database_url, f"{tag}_b"))
    _say(f"PostgreSQL schemas {tag}_a and {tag}_b (dropped at the end)")
    try:
        yield urls
    finally:
        for url in urls:
            asyncio.run(drop_schema(url))


def _scaling_url(workdir: Path, database_url: str | None) -> str | None:
    return database_url if database_url else f"sqlite:///{workdir / 'b' / 'bench.db'}"


async def _scaling(
    plan: Plan, workdir: Path, database_url: str | None, seed: int
) -> dict[str, Any]:
    settings, _ = bench_settings(workdir / "b", _scaling_url(workdir, database_url))
    store = open_store(settings.database_url)
    await store.open()
    figures: dict[str, Any] = {}
    try:
        regenerator = Regenerator(settings, store, FeedCache())
        _say(f"building a {plan.small_store:,}-article store…")
        await _fill(store, 0, plan.small_store, seed + 1)
        figures["section_regeneration_ms_small"] = await _section_ms(
            regenerator, "s01", plan.repeats
        )
        _say(f"growing it to {plan.large_store:,} articles…")
        await _fill(store, plan.small_store, plan.large_store - plan.small_store, seed + 1)
        figures["section_regeneration_ms_large"] = await _section_ms(
            regenerator, "s01", plan.repeats
        )
        small = figures["section_regeneration_ms_small"]
        figures["section_regeneration_growth_pct"] = abs(
            (figures["section_regeneration_ms_large"] - small) / small * 100
        )
        figures["store_small"] = plan.small_store
        figures["store_large"] = plan.large_store
        await regenerator.regenerate()  # every feed in the store for the server to load
        await regenerator.settle()
    finally:
        await store.close()
    return figures


def format_table(report: dict[str, Any]) -> str:
    figures = report["figures"]
    plan = report["plan"]
    labels = {
        "ingest_records_per_s": f"ingest ({plan['corpus']:,} records, validate + store)",
        "full_regeneration_s": f"full regeneration, 21 feeds x 3, {plan['corpus']:,} stored",
        "section_regeneration_ms_small": f"one section, 3 feeds, {plan['small_store']:,} stored",
        "section_regeneration_ms_large": f"one section, 3 feeds, {plan['large_store']:,} stored",
        "section_regeneration_growth_pct": "  growth from small to large store",
        "serve_gzip_rps": "serve one feed, gzip 200",
        "serve_gzip_p50_ms": "  latency p50",
        "serve_gzip_p99_ms": "  latency p99",
        "serve_304_rps": "serve one feed, 304 Not Modified",
        "serve_304_p50_ms": "  latency p50",
        "serve_304_p99_ms": "  latency p99",
        "server_peak_rss_mb": f"server peak RSS ({plan['large_store']:,} stored)",
        "newsml_50_items_ms": "render a 50-item NewsML-G2 newsMessage",
        "embargo_release_median_ms": f"embargo end -> served feed, median of {plan['releases']}",
        "embargo_release_worst_ms": f"embargo end -> served feed, worst of {plan['releases']}",
        "reach_index_s": f"index tags, authors, archives of {plan['corpus']:,} new records",
        "tag_feed_cold_ms": f"tag feed cold (query + render + gzip), {plan['corpus']:,} stored",
        "tag_feed_warm_rps": "serve a tag feed warm, gzip 200",
        "tag_feed_warm_p50_ms": "  latency p50",
        "section_feed_warm_rps": "  a section feed, same server",
    }
    rows: list[list[str]] = []
    for key, label in labels.items():
        unit, target, better = TARGETS[key]
        value = figures.get(key)
        if not isinstance(value, int | float):
            rows.append([label, "n/a", unit, "", "missing"])
            continue
        shown = f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"
        if target is None:
            rows.append([label, shown, unit, "", ""])
            continue
        ok = value >= target if better == "higher" else value <= target
        sign = "≥" if better == "higher" else "≤"
        rows.append([label, shown, unit, f"{sign} {target:g}", "ok" if ok else "MISS"])
    lines = [table(["figure", "value", "unit", "target", "status"], rows)]
    m = report["machine"]
    lines.append("")
    lines.append(
        f"{m['cores']} cores, Python {m['python']}, store {report['store']}, "
        f"load from {m['load_generator']}, {figures.get('total_seconds', 0):.0f} s in all"
    )
    return "\n".join(lines)
