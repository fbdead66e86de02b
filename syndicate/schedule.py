"""APScheduler wiring only: the timer, the safety sweep, embargo releases, leadership.

Every job calls the one `Regenerator`; with several processes only the one that holds the
store's lead runs them (the others serve and follow the store's notifications).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from syndicate.config import ALL_SECTION, Settings
from syndicate.regenerate import Regenerator
from syndicate.store.base import Store

log = logging.getLogger("syndicate.schedule")

# Fire a hair after the release instant so the clock has certainly passed it.
RELEASE_SLACK = timedelta(milliseconds=20)
# How often the leader looks for releases scheduled by other processes (CLI, other servers).
SYNC_SECONDS = 1.0


class Scheduler:
    """The timer inside the service: changed sections every interval, releases on time."""

    def __init__(self, settings: Settings, store: Store, regenerator: Regenerator) -> None:
        self.settings = settings
        self.store = store
        self.regenerator = regenerator
        self.aps = AsyncIOScheduler(timezone=UTC)
        self.is_leader = False
        self.followed = False  # has a leadership check ever found another process leading?
        self.release_jobs: dict[str, datetime] = {}
        self.last_error: str | None = None
        self.started = False

    async def start(self) -> None:
        now = datetime.now(UTC)
        common: dict[str, Any] = {"coalesce": True, "max_instances": 1, "replace_existing": True}
        self.aps.add_job(
            self.regenerate_changed,
            "interval",
            seconds=self.settings.regen_interval,
            id="regenerate-changed",
            misfire_grace_time=self.settings.regen_interval,
            **common,
        )
        self.aps.add_job(
            self.regenerate_all,
            "interval",
            seconds=self.settings.safety_interval,
            id="regenerate-all",
            next_run_time=now,  # the full regeneration at start-up
            misfire_grace_time=self.settings.safety_interval,
            **common,
        )
        self.aps.add_job(
            self.sync_releases,
            "interval",
            seconds=SYNC_SECONDS,
            id="sync-releases",
            next_run_time=now,
            misfire_grace_time=None,
            **common,
        )
        self.aps.start()
        self.started = True

    async def stop(self) -> None:
        if self.started:
            self.aps.shutdown(wait=False)
            self.started = False
        if self.is_leader:
            await self.store.resign()
            self.is_leader = False

    async def _lead(self) -> bool:
        was = self.is_leader
        try:
            self.is_leader = await self.store.try_lead()
        except Exception as exc:  # a lost database means we are not leading
            log.warning("schedule: leadership check failed: %s", exc)
            self.is_leader = False
        if self.is_leader and not was:
            log.info("schedule: this process now runs the timer")
            # A new leader starts from a clean slate: everything is regenerated once.
            self.regenerator.generated_seq.clear()
            if self.followed and self.started:
                # Taking over from a leader that died (perhaps mid-run): the full regeneration
                # now, not an interval later. At start-up the `regenerate-all` job does it.
                self.aps.add_job(self.regenerate_all, id="takeover", replace_existing=True)
        elif was and not self.is_leader:
            log.warning("schedule: this process no longer runs the timer")
        self.followed = self.followed or not self.is_leader
        return self.is_leader

    async def regenerate_changed(self) -> None:
        if not await self._lead():
            return
        await self._release_due()
        await self._run(only_changed=True)

    async def regenerate_all(self) -> None:
        if not await self._lead():
            return
        await self._release_due()
        await self._run(only_changed=False)

    async def _run(self, *, only_changed: bool, sections: list[str] | None = None) -> None:
        try:
            results = await self.regenerator.regenerate(sections, only_changed=only_changed)
            errors = [f"{r.section}: {r.error}" for r in results if r.error]
            self.last_error = "; ".join(errors) or None
        except Exception as exc:
            log.exception("schedule: regeneration failed")
            self.last_error = f"{type(exc).__name__}: {exc}"

    async def _release_due(self) -> list[str]:
        released = await self.store.release_due(now=datetime.now(UTC))
        sections = sorted({s for a in released for s in a.sections})
        if released:
            log.info(
                "schedule: released %d article(s): %s",
                len(released),
                ", ".join(a.id for a in released),
            )
        return sections

    async def release(self) -> None:
        """A date job at an embargo's end: release what is due, regenerate its sections now."""
        if not await self._lead():
            return
        sections = await self._release_due()
        if sections:
            await self._run(only_changed=False, sections=[*sections, ALL_SECTION])
        await self._schedule_pending()

    async def sync_releases(self) -> None:
        """Catch releases another process scheduled, and anything due that a job missed."""
        if not await self._lead():
            return
        sections = await self._release_due()
        if sections:
            await self._run(only_changed=False, sections=[*sections, ALL_SECTION])
        await self._schedule_pending()

    async def _schedule_pending(self) -> None:
        pending = await self.store.pending_releases()
        wanted: dict[str, datetime] = {}
        for _article_id, when, _sections in pending:
            job_id = f"release-{when.timestamp():.3f}"
            wanted[job_id] = when
        for job_id in list(self.release_jobs):
            if job_id not in wanted:
                if self.aps.get_job(job_id):
                    self.aps.remove_job(job_id)
                del self.release_jobs[job_id]
        for job_id, when in wanted.items():
            if job_id in self.release_jobs:
                continue
            self.aps.add_job(
                self.release,
                "date",
                run_date=when + RELEASE_SLACK,
                id=job_id,
                misfire_grace_time=None,  # late is better than never
                coalesce=True,
                replace_existing=True,
            )
            self.release_jobs[job_id] = when

    def article_stored(self, release_at: datetime) -> None:
        """The API stored an article held back until `release_at`: schedule it right away."""
        if not self.started or release_at <= datetime.now(UTC):
            return
        job_id = f"release-{release_at.timestamp():.3f}"
        if job_id in self.release_jobs:
            return
        self.aps.add_job(
            self.release,
            "date",
            run_date=release_at + RELEASE_SLACK,
            id=job_id,
            misfire_grace_time=None,
            coalesce=True,
            replace_existing=True,
        )
        self.release_jobs[job_id] = release_at

    def jobs(self) -> list[dict[str, Any]]:
        out = []
        for job in self.aps.get_jobs():
            out.append(
                {
                    "id": job.id,
                    "next_run": job.next_run_time.isoformat() if job.next_run_time else None,
                }
            )
        return out
