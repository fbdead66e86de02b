"""The benchmark's figures: their units and targets, the printed table, the machine."""

from __future__ import annotations

import os
import platform
import shutil
from importlib import metadata
from typing import Any

from syndicate.core.tables import table

# figure -> (unit, target, "higher"/"lower" is better); a None target is shown, not judged.
TARGETS: dict[str, tuple[str, float | None, str]] = {
    "ingest_records_per_s": ("records/s", 2000, "higher"),
    "full_regeneration_s": ("s", 1.0, "lower"),
    "full_pass_ms_per_doc": ("ms", 3.0, "lower"),
    "wide_full_pass_s": ("s", None, "lower"),
    "wide_full_pass_ms_per_doc": ("ms", 10.0 / 3, "lower"),  # 500 sections x 3 in 5 s
    "full_pass_warm_ms_per_doc": ("ms", None, "lower"),
    "wide_full_pass_warm_ms_per_doc": ("ms", None, "lower"),
    "dirty_pass_ms": ("ms", 30, "lower"),
    "section_regeneration_ms_small": ("ms", 30, "lower"),
    "section_regeneration_ms_large": ("ms", 30, "lower"),
    "section_regeneration_growth_pct": ("%", 20, "lower"),
    "serve_gzip_rps": ("req/s", 3000, "higher"),
    "serve_gzip_p50_ms": ("ms", None, "lower"),
    "serve_gzip_p99_ms": ("ms", None, "lower"),
    "serve_304_rps": ("req/s", 5000, "higher"),
    "serve_304_p50_ms": ("ms", None, "lower"),
    "serve_304_p99_ms": ("ms", None, "lower"),
    "nginx_gzip_rps": ("req/s", None, "higher"),
    "nginx_gzip_p99_ms": ("ms", None, "lower"),
    "nginx_304_rps": ("req/s", None, "higher"),
    "nginx_304_p99_ms": ("ms", None, "lower"),
    "readers_idle_p99_ms": ("ms", None, "lower"),
    "readers_busy_p50_ms": ("ms", None, "lower"),
    "readers_busy_p99_ms": ("ms", None, "lower"),
    "readers_p99_ratio": ("x", 5, "lower"),
    "server_peak_rss_mb": ("MB", 150, "lower"),
    "newsml_50_items_ms": ("ms", 50, "lower"),
    "embargo_release_median_ms": ("ms", 2000, "lower"),
    "embargo_release_worst_ms": ("ms", 2000, "lower"),
    "reach_index_s": ("s", None, "lower"),
    "tag_feed_cold_ms": ("ms", 20, "lower"),
    "tag_feed_warm_rps": ("req/s", None, "higher"),
    "tag_feed_warm_p50_ms": ("ms", None, "lower"),
    "section_feed_warm_rps": ("req/s", None, "higher"),
    "save_to_served_median_ms": ("ms", None, "lower"),
    "save_to_served_worst_ms": ("ms", 2500, "lower"),  # publish_delay (2 s) + 0.5 s
    "push_delay_median_ms": ("ms", None, "lower"),
    "push_delay_worst_ms": ("ms", None, "lower"),
    "push_deliveries_per_s": ("deliveries/s", None, "higher"),
}


# Measured only where nginx is installed (Debian's package); the rest always.
NGINX_FIGURES = frozenset(
    {"nginx_gzip_rps", "nginx_gzip_p99_ms", "nginx_304_rps", "nginx_304_p99_ms"}
)


def labels(plan: dict[str, Any], figures: dict[str, Any]) -> dict[str, str]:
    corpus = f"{plan['corpus']:,}"
    wide = f"{plan['wide_sections']} sections + all x 3, {plan['large_store']:,} stored"
    return {
        "ingest_records_per_s": f"ingest ({corpus} records, validate + store)",
        "full_regeneration_s": f"full pass, cold (median of 3): 20 sections + all x 3, {corpus}",
        "full_pass_ms_per_doc": "  per document",
        "wide_full_pass_s": f"full pass, cold (median of 3): {wide}",
        "wide_full_pass_ms_per_doc": "  per document",
        "full_pass_warm_ms_per_doc": "full pass, warm (hourly, nothing changed), per document",
        "wide_full_pass_warm_ms_per_doc": f"  the same, {plan['wide_sections']} sections",
        "dirty_pass_ms": "dirty pass after one new article (its section + all)",
        "section_regeneration_ms_small": f"one section, 3 feeds, {plan['small_store']:,} stored",
        "section_regeneration_ms_large": f"one section, 3 feeds, {plan['large_store']:,} stored",
        "section_regeneration_growth_pct": "  growth from small to large store",
        "serve_gzip_rps": "serve one feed, gzip 200",
        "serve_gzip_p50_ms": "  latency p50",
        "serve_gzip_p99_ms": "  latency p99",
        "serve_304_rps": "serve one feed, 304 Not Modified",
        "serve_304_p50_ms": "  latency p50",
        "serve_304_p99_ms": "  latency p99",
        "nginx_gzip_rps": "the same feed by nginx from feeds/, gzip 200",
        "nginx_gzip_p99_ms": "  latency p99",
        "nginx_304_rps": "  nginx, 304 Not Modified",
        "nginx_304_p99_ms": "  latency p99",
        "readers_idle_p99_ms": "readers' 304 p99, idle",
        "readers_busy_p50_ms": "readers' 304 p50 during back-to-back full passes"
        + f" ({figures.get('readers_busy_full_passes', 0):.0f})",
        "readers_busy_p99_ms": "  p99",
        "readers_p99_ratio": "  p99 busy / idle",
        "server_peak_rss_mb": f"server peak RSS ({plan['large_store']:,} stored)",
        "newsml_50_items_ms": "render a 50-item NewsML-G2 newsMessage",
        "embargo_release_median_ms": f"embargo end -> served feed, median of {plan['releases']}",
        "embargo_release_worst_ms": f"embargo end -> served feed, worst of {plan['releases']}",
        "reach_index_s": f"index tags, authors, archives of {corpus} new records",
        "tag_feed_cold_ms": f"tag feed cold (query + render + gzip), {corpus} stored",
        "tag_feed_warm_rps": "serve a tag feed warm, gzip 200",
        "tag_feed_warm_p50_ms": "  latency p50",
        "section_feed_warm_rps": "  a section feed, same server",
        "save_to_served_median_ms": f"save -> served (delay 2 s), median of {plan['saves']}",
        "save_to_served_worst_ms": f"save -> served, worst of {plan['saves']}",
        "push_delay_median_ms": f"change -> partner's receiver, median of {plan['push_items']}",
        "push_delay_worst_ms": f"change -> partner's receiver, worst of {plan['push_items']}",
        "push_deliveries_per_s": f"push throughput, {plan['push_destinations']} destinations",
    }


def format_table(report: dict[str, Any]) -> str:
    figures = report["figures"]
    rows: list[list[str]] = []
    for key, label in labels(report["plan"], figures).items():
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


def machine() -> dict[str, Any]:
    libs: dict[str, str | None] = {}
    for name in ("aiohttp", "lxml", "aiosqlite", "asyncpg", "apscheduler", "jsonschema"):
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libs[name] = None
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_generator": "wrk" if shutil.which("wrk") else "syndicate.bench.loadgen",
        "libraries": libs,
    }
