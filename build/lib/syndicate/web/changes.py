"""What every editor write tells the rest of the process: the API and the desk both call these.

A stored or withdrawn article makes its sections go out within `publish_delay`, gives an
embargo its release job now, wakes the pushes, and is counted in the metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syndicate.model import PutResult
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
