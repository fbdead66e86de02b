"""What `GET /api/status` and `syndicate status` show: sections, generations, timer, releases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from syndicate.config import ALL_SECTION, Settings
from syndicate.regenerate import Regenerator
from syndicate.store.base import Store

if TYPE_CHECKING:
    from syndicate.schedule import Scheduler
    from syndicate.websub import WebSubPublisher


async def collect_status(
    settings: Settings,
    store: Store,
    regenerator: Regenerator,
    scheduler: Scheduler | None,
    *,
    websub: WebSubPublisher | None = None,
) -> dict[str, Any]:
    """Sections (items, last generation, ETags, last error), the timer, releases, WebSub.

    `scheduler` is None in a process that only serves (SYNDICATE_RUN_SCHEDULER=0).
    """
    now = datetime.now(UTC)
    waiting = regenerator.waiting(await store.section_seqs())
    goes_out = scheduler.next_publish() if scheduler is not None else None
    sections = []
    for slug in [*settings.section_slugs, ALL_SECTION]:
        last = regenerator.last.get(slug)
        etags = {}
        for name in ("rss.xml", "atom.xml", "feed.json"):
            served = regenerator.cache.get(slug, name)
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
