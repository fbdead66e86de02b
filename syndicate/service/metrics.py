"""Prometheus metrics for one process: regenerations, feed requests, ingest outcomes.

Each app gets its own registry (no process globals), rendered at `GET /metrics`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.regenerations = Counter(
            "syndicate_regenerations",
            "Section regenerations by outcome (changed, unchanged, error)",
            ["section", "outcome"],
            registry=self.registry,
        )
        self.regeneration_seconds = Histogram(
            "syndicate_regeneration_seconds",
            "Time to regenerate one section's feeds",
            ["section"],
            buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.feed_requests = Counter(
            "syndicate_feed_requests",
            "Feed requests by HTTP status",
            ["status"],
            registry=self.registry,
        )
        self.ingest = Counter(
            "syndicate_ingested_records",
            "Records submitted by outcome (created, updated, unchanged, rejected)",
            ["outcome"],
            registry=self.registry,
        )
        self.websub = Counter(
            "syndicate_websub_pings",
            "WebSub publish notifications by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.pending_releases = Gauge(
            "syndicate_pending_embargo_releases",
            "Articles held back by an embargo or a future publication time",
            registry=self.registry,
        )
        self.store_degraded = Gauge(
            "syndicate_store_degraded",
            "1 while this process has not heard from the shared database for too long",
            registry=self.registry,
        )
        self.listener_errors = Gauge(
            "syndicate_feed_listener_errors",
            "Failures of the feed-change listener (connect, catch-up, heartbeat) since start",
            registry=self.registry,
        )
        self.push_delivered = Counter(
            "syndicate_push_delivered",
            "Items delivered to push destinations (2xx from the receiver)",
            ["destination"],
            registry=self.registry,
        )
        self.push_delay = Histogram(
            "syndicate_push_delay_seconds",
            "From a change being stored to its delivery to a push destination",
            ["destination"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0),
            registry=self.registry,
        )
        self.push_state = Gauge(
            "syndicate_push_destination",
            "Push destinations: delivered, failed, dead (as stored), queued, in_flight, "
            "oldest_undelivered_seconds",
            ["destination", "what"],
            registry=self.registry,
        )
        # Labelled children looked up once: the feed path is hot.
        self._feed_status = {s: self.feed_requests.labels(str(s)) for s in (200, 304, 404)}

    def watch_store(self, health: Callable[[], dict[str, Any]]) -> None:
        """Read the store's health (a dict like `Store.health()`) at every scrape."""
        self.store_degraded.set_function(lambda: float(health()["degraded"]))
        self.listener_errors.set_function(
            lambda: float(health().get("feed_listener", {}).get("errors", 0))
        )

    def feed_request(self, status: int) -> None:
        child = self._feed_status.get(status)
        if child is None:
            child = self._feed_status[status] = self.feed_requests.labels(str(status))
        child.inc()

    def push_round(self, destination: Any, queued: int, in_flight: bool, oldest: float) -> None:
        """A destination's counters as stored, and what waits, after each delivery round."""
        gauge = self.push_state
        for what, value in (
            ("delivered", destination.delivered),
            ("failed", destination.failed),
            ("dead", destination.dead),
            ("queued", queued),
            ("in_flight", 1 if in_flight else 0),
            ("oldest_undelivered_seconds", oldest),
        ):
            gauge.labels(destination.id, what).set(value)

    def pushed(self, destination: str, seconds: float) -> None:
        self.push_delivered.labels(destination).inc()
        self.push_delay.labels(destination).observe(seconds)

    def ingested(self, outcome: str, n: int = 1) -> None:
        self.ingest.labels(outcome).inc(n)

    def regenerated(self, section: str, outcome: str, seconds: float) -> None:
        self.regenerations.labels(section, outcome).inc()
        self.regeneration_seconds.labels(section).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
