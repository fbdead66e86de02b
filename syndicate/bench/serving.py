"""Measuring a running `syndicate serve`: one feed under load (wrk, else our own generator),
idle and while every section is regenerated back to back, and the server's peak memory."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FEED = "/feeds/s01/rss.xml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer {url} in time")


def load(url: str, headers: list[str], seconds: float) -> dict[str, Any]:
    """Load from a separate process: wrk when installed, else our own generator."""
    wrk = shutil.which("wrk")
    if wrk:
        cmd = [wrk, "-t1", "-c32", f"-d{max(1, int(seconds))}s", "--latency"]
        for h in headers:
            cmd += ["-H", h]
        out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
        return parse_wrk(out)
    cmd = [sys.executable, "-m", "syndicate.bench.loadgen", url, "--seconds", str(seconds)]
    cmd += ["--connections", "32"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    return {k: data[k] for k in ("rps", "p50_ms", "p99_ms", "statuses")}


def parse_wrk(out: str) -> dict[str, Any]:
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


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def running_server(config: Path, env_extra: dict[str, str]) -> Iterator[tuple[str, int]]:
    """`syndicate serve` on `config` and a free port: (base URL, pid); stopped on exit."""
    port = free_port()
    env = {**os.environ, "SYNDICATE_RUN_SCHEDULER": "0", **env_extra, "SYNDICATE_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicate", "--config", str(config), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz", time.monotonic() + 30)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _etag(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return str(resp.headers["ETag"])


def measure_serving(base: str, pid: int, seconds: float) -> dict[str, float]:
    """One feed as gzip 200 and as 304, and the server's peak memory."""
    url = base + FEED
    etag = _etag(url)
    gz = load(url, ["Accept-Encoding: gzip"], seconds)
    nm = load(url, [f"If-None-Match: {etag}", "Accept-Encoding: gzip"], seconds)
    return {
        "serve_gzip_rps": gz["rps"],
        "serve_gzip_p50_ms": gz["p50_ms"],
        "serve_gzip_p99_ms": gz["p99_ms"],
        "serve_304_rps": nm["rps"],
        "serve_304_p50_ms": nm["p50_ms"],
        "serve_304_p99_ms": nm["p99_ms"],
        "server_peak_rss_mb": peak_rss_mb(pid),
    }


def measure_nginx(feeds_dir: Path, seconds: float, prefix: Path) -> dict[str, float]:
    """The same feed served from the feeds folder by nginx on the shipped configuration
    (`syndicate nginx-conf`): gzip 200 and 304. Nothing when nginx is not installed."""
    from syndicate.pipeline.nginx import StaticSite, nginx_binary, running_nginx

    if nginx_binary() is None:
        return {}
    with running_nginx(prefix, StaticSite(feeds_dir, free_port())) as base:
        url = base + FEED
        gz = load(url, ["Accept-Encoding: gzip"], seconds)
        nm = load(url, [f"If-None-Match: {_etag(url)}", "Accept-Encoding: gzip"], seconds)
    return {
        "nginx_gzip_rps": gz["rps"],
        "nginx_gzip_p99_ms": gz["p99_ms"],
        "nginx_304_rps": nm["rps"],
        "nginx_304_p99_ms": nm["p99_ms"],
    }


def measure_readers_during_regeneration(base: str, token: str, seconds: float) -> dict[str, float]:
    """Readers' 304 latency idle, then while every section is regenerated back to back.

    The server is started with no fragment cache (`SYNDICATE_RENDER_CACHE_MB=0`), so every
    pass renders every item of every feed: the worst case, a new leader's first full pass.
    """
    url = base + FEED
    headers = [f"If-None-Match: {_etag(url)}", "Accept-Encoding: gzip"]
    idle = load(url, headers, seconds)
    passes = 0
    stop = threading.Event()

    def regenerate() -> None:
        nonlocal passes
        request = urllib.request.Request(
            base + "/api/regenerate",
            data=b'{"sections": []}',
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        while not stop.is_set():
            with urllib.request.urlopen(request, timeout=120) as resp:
                resp.read()
            passes += 1

    regenerating = threading.Thread(target=regenerate, daemon=True)
    regenerating.start()
    try:
        busy = load(url, headers, seconds)
    finally:
        stop.set()
        regenerating.join(timeout=120)
    return {
        "readers_idle_p50_ms": idle["p50_ms"],
        "readers_idle_p99_ms": idle["p99_ms"],
        "readers_busy_p50_ms": busy["p50_ms"],
        "readers_busy_p99_ms": busy["p99_ms"],
        "readers_busy_full_passes": float(passes),
        "readers_p99_ratio": busy["p99_ms"] / idle["p99_ms"] if idle["p99_ms"] else 0.0,
    }
