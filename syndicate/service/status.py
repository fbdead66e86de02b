"""What `GET /api/status` and `syndicate status` show: sections, generations, timer, releases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from syndicate.core.config import ALL_SECTION, Settings
from syndicate.core.model import FeedDocument
from syndicate.pipeline.regenerate import Regenerator
from syndicate.pipeline.served import strong_etag
from syndicate.store.base import Store

if TYPE_CHECKING:
    from syndicate.service.push import Pusher
    from syndicate.service.schedule import Scheduler
    from syndicate.service.websub import WebSubPublisher


async def collect_status(
    settings: Settings,
    store: Store,
    regenerator: Regenerator | None,
    scheduler: Scheduler | None,
    *,
    websub: WebSubPublisher | None = None,
    pusher: Pusher | None = None,
    now: datetime,
) -> dict[str, Any]:
    """Sections (items, last generation, ETags, last error), the timer, releases, WebSub.

    The running service's view (`GET /api/status`), or, without a `regenerator` (the CLI
    with no service to ask), what the store alone tells in the same shape: the stored feeds'
    generation and ETags, and which sections' stored feeds lag behind their changes.
    `scheduler` is None in a process that only serves (SYNDICATE_RUN_SCHEDULER=0); `now` is
    the service's clock, read once for the whole answer.
    """
    seqs = await store.section_seqs()
    goes_out = scheduler.next_publish() if scheduler is not None else None
    if regenerator is not None:
        waiting = regenerator.waiting(seqs)
        views = {slug: _served_view(regenerator, slug) for slug in _slugs(settings)}
    else:
        stored = await store.load_feeds()
        waiting = _lagging(settings, seqs, stored)
        views = {slug: _stored_view(stored, slug) for slug in _slugs(settings)}
    sections = []
    for slug in _slugs(settings):
        sections.append(
            {
                "section": slug,
                "items": await store.count(None if slug == ALL_SECTION else slug, now=now),
                **views[slug],
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
        "opml_error": regenerator.opml_error if regenerator is not None else None,
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


FEED_NAMES = ("rss.xml", "atom.xml", "feed.json")


def _slugs(settings: Settings) -> list[str]:
    return [*settings.section_slugs, ALL_SECTION]


def _served_view(regenerator: Regenerator, slug: str) -> dict[str, Any]:
    """A section as this process serves it, and its last run here."""
    last = regenerator.last_result(slug)
    etags = {n: f.etag for n in FEED_NAMES if (f := regenerator.served(slug, n)) is not None}
    return {
        "last_generation": last.generated_at.isoformat() if last and last.generated_at else None,
        "milliseconds": round(last.milliseconds, 2) if last else None,
        "changed": last.changed if last else None,
        "last_error": (last.error or last.files_error) if last else None,
        "warnings": last.warnings if last else [],
        "etags": etags,
    }


def _stored_view(stored: Sequence[FeedDocument], slug: str) -> dict[str, Any]:
    """A section as the store keeps its feeds (no run of this process to tell more)."""
    mine = [d for d in stored if d.section == slug and d.name in FEED_NAMES]
    newest = max((d.generated for d in mine), default=None)
    return {
        "last_generation": newest.isoformat() if newest else None,
        "milliseconds": None,
        "changed": None,
        "last_error": None,
        "warnings": [],
        "etags": {d.name: strong_etag(d.body) for d in mine},
    }


def _lagging(settings: Settings, seqs: dict[str, int], stored: Sequence[FeedDocument]) -> set[str]:
    """Sections whose stored feeds were rendered from an older store state than their changes."""
    rendered = {d.section: d.seq for d in stored if d.name in FEED_NAMES}
    newest = max(seqs.values(), default=0)
    behind = {s for s in settings.section_slugs if seqs.get(s, 0) > rendered.get(s, -1)}
    if behind or newest > rendered.get(ALL_SECTION, -1):
        behind.add(ALL_SECTION)
    return behind


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
