"""What every editor write tells the rest of the process: the API and the desk both call these.

A stored or withdrawn article makes its sections go out within `publish_delay`, gives an
embargo its release job now, wakes the pushes, and is counted in the metrics; a push
destination added or replayed wakes the pushes too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syndicate.core.model import PutResult, parse_time
from syndicate.pipeline.imports import ImportResult
from syndicate.web.keys import METRICS, PUSHER, SCHEDULER

# `request.app` for the API's handlers, `request.config_dict` for the desk's (a sub-app).
Services = Mapping[Any, Any]


def count_ingest(services: Services, outcome: str, n: int = 1) -> None:
    metrics = services.get(METRICS)
    if metrics is not None:
        metrics.ingested(outcome, n)


def articles_changed(services: Services) -> None:
    """Articles were stored or withdrawn: their sections go out within `publish_delay`."""
    scheduler = services.get(SCHEDULER)
    if scheduler is not None:
        scheduler.article_changed()
    destinations_changed(services)


def destinations_changed(services: Services) -> None:
    """A push destination was added or replayed: its deliveries start now, not at the
    pusher's next look (up to a second later)."""
    pusher = services.get(PUSHER)
    if pusher is not None:
        pusher.wake()


def article_stored(services: Services, result: PutResult) -> None:
    """After a put: count it, and give an embargo its release job now."""
    count_ingest(services, result.outcome)
    scheduler = services.get(SCHEDULER)
    if scheduler is not None and result.outcome != "unchanged":
        # The once-a-second sync would find it too; this matters for releases sooner.
        scheduler.article_stored(result.article.release_at)
        # Even a held article: an update that embargoes a public one takes it out again.
        articles_changed(services)


def page_imported(services: Services, result: ImportResult) -> None:
    """After an imported page (the API's and the desk's): count it; a stored change goes out
    like any other (a page carries no embargo, so it is released at its `published`)."""
    if result.outcome not in ("created", "updated", "unchanged", "rejected"):
        return  # a dry run stored nothing
    count_ingest(services, result.outcome)
    if result.outcome in ("created", "updated") and result.record is not None:
        scheduler = services.get(SCHEDULER)
        if scheduler is not None:
            scheduler.article_stored(parse_time(result.record["published"]))
        articles_changed(services)
