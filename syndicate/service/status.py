"""What `GET /api/status` and `syndicate status` show: sections, generations, timer, releases."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from syndicate.core.config import ALL_SECTION, Settings
from syndicate.pipeline.regenerate import Regenerator
from syndicate.store.base import Store

if TYPE_CHECKING:
    from syndicate.service.push import Pusher
    from syndicate.service.schedule import Scheduler
    from syndicate.service.websub import WebSubPublisher


async def collect_status(
    settings: Settings,
    store: Store,
    regenerator: Regenerator,
    scheduler: Scheduler | None,
    *,
    websub: WebSubPublisher | None = None,
    pusher: Pusher | None = None,
    now: datetime,
) -> dict[str, Any]:
    """Sections (items, last generation, ETags, last error), the timer, releases, WebSub.

    `scheduler` is None in a process that only serves (SYNDICATE_RUN_SCHEDULER=0); `now` is
    the service's clock, read once for the whole answer.
    """
    waiting = regenerator.waiting(await store.section_seqs())
    goes_out = scheduler.next_publish() if scheduler is not None else None
    sections = []
    for slug in [*settings.section_slugs, ALL_SECTION]:
        last = regenerator.last_result(slug)
        etags = {}
        for name in ("rss.xml", "atom.xml", "feed.json"):
            served = regenerator.served(slug, name)
            if served is not None:
                etags[name] = served.etag
        sections.append(
            {
                "section": slug,
                "items": await store.count(None if slug == ALL_SECTION else slug, now=now),
                "last_generation": last.generated_at.isoformat()
                if last and last.generated_at
                else None,
                "milliseconds": round(last.milliseconds, 2) if last else None,
                "changed": last.changed if last else None,
                "last_error": (last.error or last.files_error) if last else None,
                "warnings": last.warnings if last else [],
                "etags": etags,
                # Changes stored but not yet in this section's feeds, and when they go out
                # (None: on another process, the leader, or only when someone regenerates).
                "changes_waiting": slug in waiting,
                "goes_out": goes_out.isoformat() if slug in waiting and goes_out else None,
            }
        )
    pending = await store.pending_releases()
    body: dict[str, Any] = {
        "now": now.isoformat(),
        "sections": sections,
        "opml_error": regenerator.opml_error,
        "articles": await store.totals(),
        "pending_releases": [
            {"id": article_id, "release_at": when.isoformat(), "sections": list(secs)}
            for article_id, when, secs in pending
        ],
        "scheduler": {
            "running": False,
            "leader": False,
            "interval_seconds": settings.regen_interval,
            "safety_interval_seconds": settings.safety_interval,
            "last_error": None,
            "quarantined": [],
            "next_run": None,
            "jobs": [],
        },
        "websub": websub.status() if websub is not None else None,
        "push": await push_status(store, pusher, now),
        "store": store.health(),
    }
    if scheduler is not None:
        jobs = scheduler.jobs()
        body["scheduler"].update(
            running=scheduler.started,
            leader=scheduler.is_leader,
            last_error=scheduler.last_error,
            quarantined=[
                {"id": i, "stage": "schedule", "error": e}
                for i, e in sorted(scheduler.quarantined.items())
            ],
            next_run=min((j["next_run"] for j in jobs if j["next_run"]), default=None),
            jobs=jobs,
        )
    return body


QUEUE_COUNT_LIMIT = 1000  # beyond this, "at least" is what status can honestly say


async def push_status(store: Store, pusher: Pusher | None, now: datetime) -> list[dict[str, Any]]:
    """Per push destination: what waits, what went, what failed; never its secret."""
    tokens = {t.id: t for t in await store.list_tokens()}
    out = []
    for d in await store.destinations():
        waiting = await store.changes_after(d.position, d.sections, QUEUE_COUNT_LIMIT)
        oldest = waiting[0].article.version_created if waiting else None
        state = pusher.states.get(d.id) if pusher is not None else None
        token = tokens.get(d.token_id)
        out.append(
            {
                "id": d.id,
                "partner": token.name if token else None,  # None: its token was revoked
                "url": d.url,
                "format": d.format,
                "sections": list(d.sections),
                "queued": len(waiting),
                "queued_at_least": len(waiting) >= QUEUE_COUNT_LIMIT,
                "in_flight": bool(state and state.in_flight),
                "delivered": d.delivered,
                "failed": d.failed,
                "dead": d.dead,
                "oldest_undelivered_seconds": round((now - oldest).total_seconds(), 3)
                if oldest
                else None,
                "last_error": d.last_error,
                "last_delivered": d.last_delivered.isoformat() if d.last_delivered else None,
            }
        )
    return out
