"""APScheduler wiring only: the timer, the safety sweep, embargo releases, publishing
changes soon after they are stored, leadership.

Every job calls the one `Regenerator`; with several processes only the one that holds the
store's lead runs them (the others serve and follow the store's notifications).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from syndicate.core.clock import Clock, utc_now
from syndicate.core.config import ALL_SECTION, Settings
from syndicate.pipeline.regenerate import Regenerator
from syndicate.service.metrics import Metrics
from syndicate.store.base import Store

log = logging.getLogger("syndicate.schedule")

# Fire a hair after the release instant so the clock has certainly passed it.
RELEASE_SLACK = timedelta(milliseconds=20)
# How often the leader looks for releases scheduled by other processes (CLI, other servers).
SYNC_SECONDS = 1.0
# How long stopping waits for a job in progress before cancelling it.
STOP_GRACE_SECONDS = 10.0
# How often the leader reads the store's per-section change seqs, to learn of changes stored
# by other processes (a follower's editors, `syndicate ingest`). A poll, not LISTEN/NOTIFY:
# `section_seqs()` is one small row per section, so twice a second costs next to nothing; it
# works the same on SQLite (a CLI ingest) as on PostgreSQL; and it cannot miss a change the
# way a notification sent while the listening session was down is missed. Only the leader
# polls, and only while `publish_delay` > 0.
CHANGES_POLL_SECONDS = 0.5

CHANGED_JOB = "regenerate-changed"
ALL_JOB = "regenerate-all"
SYNC_JOB = "sync-releases"
RELEASE_JOB = "release"
PUBLISH_JOB = "publish-changes"
WATCH_JOB = "watch-changes"

Pending = tuple[str, datetime, tuple[str, ...]]  # (article id, release time, sections)


class Scheduler:
    """The timer inside the service: changed sections every interval, releases on time.

    Jobs never raise into APScheduler: failures are logged and kept in `last_error`.
    `clock` decides what is due and when runs go out; APScheduler fires by the system's
    time, so a started scheduler needs a clock that keeps pace with it (tests that fix the
    clock call the jobs themselves).
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        regenerator: Regenerator,
        *,
        metrics: Metrics | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.store = store
        self.regenerator = regenerator
        self.metrics = metrics
        self.clock = clock
        self.aps = AsyncIOScheduler(timezone=UTC)
        self.is_leader = False
        self.followed = False  # has a leadership check ever found another process leading?
        self.last_error: str | None = None
        # Articles whose release cannot be scheduled (an instant past what the scheduler can
        # hold): named here with the error, while every other release goes on.
        self.quarantined: dict[str, str] = {}
        self.last_runs: dict[str, datetime] = {}
        self.started = False
        self.stopping = False
        self._jobs_running: set[asyncio.Task[Any]] = set()
        # When the publish run for the changes of this burst is due (None: no run is due).
        self._publish_at: datetime | None = None
        # The newest change seq a publish run was started for (or that one read).
        self._seen_seq = -1

    async def start(self) -> None:
        now = self.clock()
        common: dict[str, Any] = {"coalesce": True, "max_instances": 1, "replace_existing": True}
        self.aps.add_job(
            self.regenerate_changed,
            "interval",
            seconds=self.settings.regen_interval,
            id=CHANGED_JOB,
            misfire_grace_time=self.settings.regen_interval,
            **common,
        )
        self.aps.add_job(
            self.regenerate_all,
            "interval",
            seconds=self.settings.safety_interval,
            id=ALL_JOB,
            next_run_time=now,  # the full regeneration at start-up
            misfire_grace_time=self.settings.safety_interval,
            **common,
        )
        self.aps.add_job(
            self.sync_releases,
            "interval",
            seconds=SYNC_SECONDS,
            id=SYNC_JOB,
            next_run_time=now,
            misfire_grace_time=None,
            **common,
        )
        if self.settings.publish_delay > 0:
            self.aps.add_job(
                self.watch_changes,
                "interval",
                seconds=CHANGES_POLL_SECONDS,
                id=WATCH_JOB,
                misfire_grace_time=None,
                **common,
            )
        self.aps.start()
        self.started = True

    async def stop(self) -> None:
        """Stop the timer, let jobs in progress finish (briefly), give up the lead."""
        self.stopping = True  # jobs that still fire return at once
        if self.started:
            self.aps.pause()
            # Before shutdown: APScheduler's shutdown cancels the job tasks it started.
            if self._jobs_running:
                _done, late = await asyncio.wait(self._jobs_running, timeout=STOP_GRACE_SECONDS)
                for task in late:
                    task.cancel()
            self.aps.shutdown(wait=False)
            self.started = False
            await asyncio.sleep(0)  # APScheduler shuts down on the loop's next turn
        if self.is_leader:
            await self.store.resign()
            self.is_leader = False

    async def _job(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        """Run one job's body if we lead; never let it raise into APScheduler."""
        if self.stopping:
            return
        task = asyncio.current_task()
        if task is not None:
            self._jobs_running.add(task)
        try:
            if not await self._lead():
                return
            await body()
            self.last_runs[name] = self.clock()
        except Exception as exc:
            log.exception("schedule: job %s failed", name)
            self.last_error = f"{name}: {type(exc).__name__}: {exc}"
        finally:
            if task is not None:
                self._jobs_running.discard(task)

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
            self.regenerator.start_afresh()
            if self.followed and self.started:
                # Taking over from a leader that died (perhaps mid-run): the full regeneration
                # now, not an interval later. At start-up the `regenerate-all` job does it.
                self.aps.add_job(self.regenerate_all, id="takeover", replace_existing=True)
        elif was and not self.is_leader:
            log.warning("schedule: this process no longer runs the timer")
        self.followed = self.followed or not self.is_leader
        return self.is_leader

    async def regenerate_changed(self) -> None:
        """The timer: sections whose content changed since we last generated them."""

        async def body() -> None:
            await self._release_due()
            await self._run(only_changed=True)

        await self._job(CHANGED_JOB, body)

    async def regenerate_all(self) -> None:
        """The safety sweep (and start-up): every section, changed or not."""

        async def body() -> None:
            await self._release_due()
            await self._run(only_changed=False)

        await self._job(ALL_JOB, body)

    def article_changed(self) -> None:
        """An article was stored or withdrawn here: its sections go out within the delay.

        Only on the leader; a follower's changes reach the leader through `watch_changes`.
        """
        if self.is_leader and self.settings.publish_delay > 0:
            self._publish_within(self.settings.publish_delay)

    async def watch_changes(self) -> None:
        """On the leader, every `CHANGES_POLL_SECONDS`: changes stored by any process."""
        # `is_leader` as the last job found it (the sync job asks every second): a round
        # trip to contend for the lead twice a second would double that job's cost.
        if self.stopping or not self.is_leader:
            return
        try:
            seqs = await self.store.section_seqs()
        except Exception as exc:  # the next poll tries again; the timer is the safety net
            log.warning("schedule: cannot read the store's changes: %s", exc)
            return
        newest = max(seqs.values(), default=0)
        # A change any run already read (the start-up or takeover regeneration, an editor's
        # button) needs no publish run; a failed one is left to the timer, not retried here.
        if newest > max(self._seen_seq, self.regenerator.generated_through(ALL_SECTION)):
            self._seen_seq = newest
            # Stored up to one poll ago: due that much sooner than a change heard at once.
            self._publish_within(self.settings.publish_delay - CHANGES_POLL_SECONDS)

    def _publish_within(self, delay: float) -> None:
        """Make sure a publish run is due within `delay` seconds from now.

        A debounce from the first change: later changes join the run already due, so a burst
        makes one run, and a steady stream cannot postpone it.
        """
        if not self.started or self.stopping or self._publish_at is not None:
            return
        when = self.clock() + timedelta(seconds=max(0.0, delay))
        self._publish_at = when
        self.aps.add_job(
            self.publish_changes,
            "date",
            run_date=when,
            id=PUBLISH_JOB,
            misfire_grace_time=None,  # late is better than never
            coalesce=True,
            # Each one fires once and must never be skipped for one still running (its
            # changes came after that run read the store); the regenerator joins or follows
            # up overlapping runs of a section.
            max_instances=1000,
            replace_existing=True,
        )

    async def publish_changes(self) -> None:
        """The publish delay after a burst of changes: the changed sections, as the timer."""
        # Changes from here on are the next burst: that run reads the store after them.
        self._publish_at = None

        async def body() -> None:
            seqs = await self.store.section_seqs()
            self._seen_seq = max(self._seen_seq, max(seqs.values(), default=0))
            await self._run(only_changed=True)

        await self._job(PUBLISH_JOB, body)

    async def release(self) -> None:
        """A date job at an embargo's end: release what is due, regenerate its sections now."""
        await self._job(RELEASE_JOB, self._release_and_sync)

    async def sync_releases(self) -> None:
        """Catch releases another process scheduled, and anything due that a job missed."""
        await self._job(SYNC_JOB, self._release_and_sync)

    async def _release_and_sync(self) -> None:
        pending = await self.store.pending_releases()
        sections = await self._release_due(pending)
        if sections:
            await self._run(only_changed=False, sections=[*sections, ALL_SECTION])
            pending = await self.store.pending_releases()
        self._schedule_pending(pending)

    async def _run(self, *, only_changed: bool, sections: list[str] | None = None) -> None:
        results = await self.regenerator.regenerate(sections, only_changed=only_changed)
        errors = [f"{r.section}: {r.error}" for r in results if r.error]
        self.last_error = "; ".join(errors) or None

    async def _release_due(self, pending: list[Pending] | None = None) -> list[str]:
        """Release what is due (the store writes once per release); its sections, sorted."""
        if pending is None:
            pending = await self.store.pending_releases()
        now = self.clock()
        # Read first, write only when something is due: a write transaction every second
        # would contend with the editors' writes for nothing.
        if not any(when <= now for _id, when, _secs in pending):
            return []
        released = await self.store.release_due(now=now)
        sections = sorted({s for a in released for s in a.sections})
        if released:
            log.info(
                "released count=%d articles=%s sections=%s",
                len(released),
                ",".join(a.id for a in released),
                ",".join(sections),
            )
        return sections

    def _schedule_pending(self, pending: list[Pending]) -> None:
        """Make the date jobs match the store's pending releases (one job per instant)."""
        if self.metrics is not None:
            self.metrics.pending_releases.set(len(pending))
        now = self.clock()
        # Due ones are left to this sync job (it runs every second); a date job in the past
        # would fire at once and, if the store disagreed, again and again.
        wanted: dict[str, tuple[datetime, list[str]]] = {}
        for article_id, when, _secs in pending:
            if when > now:
                wanted.setdefault(_release_job_id(when), (when, []))[1].append(article_id)
        for job in self.aps.get_jobs():
            if job.id.startswith(RELEASE_JOB + "-") and job.id not in wanted:
                job.remove()
        quarantined: dict[str, str] = {}
        for job_id, (when, ids) in wanted.items():
            if self.aps.get_job(job_id) is None:
                error = self._add_release_job(job_id, when)
                quarantined.update(dict.fromkeys(ids, error) if error else {})
        for article_id in quarantined.keys() - self.quarantined.keys():
            log.warning(
                "schedule: release of %s cannot be scheduled: %s",
                article_id,
                quarantined[article_id],
            )
        self.quarantined = quarantined

    def _add_release_job(self, job_id: str, when: datetime) -> str | None:
        """Schedule a release; the error in words when the scheduler cannot hold the time."""
        try:
            self.aps.add_job(
                self.release,
                "date",
                run_date=when + RELEASE_SLACK,
                id=job_id,
                misfire_grace_time=None,  # late is better than never
                coalesce=True,
                replace_existing=True,
            )
        except (OverflowError, ValueError, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    def article_stored(self, release_at: datetime) -> None:
        """An article held back until `release_at` was stored: schedule its release now.

        Optional: the sync job finds it within `SYNC_SECONDS` anyway; this only matters for
        an embargo ending sooner than that.
        """
        if not self.started or self.stopping or release_at <= self.clock():
            return
        job_id = _release_job_id(release_at)
        if self.aps.get_job(job_id) is None and (
            error := self._add_release_job(job_id, release_at)
        ):
            # The sync job names the article in `quarantined`; storing it must not fail.
            log.warning("schedule: a release at %s cannot be scheduled: %s", release_at, error)

    def next_publish(self) -> datetime | None:
        """When this process next renders changed sections: the publish run already due for a
        burst, else the timer's next run; None when it does not run them (not the leader)."""
        if not self.started or not self.is_leader:
            return None
        timer = self.aps.get_job(CHANGED_JOB)
        times = [t for t in (self._publish_at, timer.next_run_time if timer else None) if t]
        return min(times, default=None)

    def jobs(self) -> list[dict[str, Any]]:
        """Every scheduled job and its next run (for status), soonest first."""
        if not self.started:
            return []
        out = []
        for job in self.aps.get_jobs():
            kind = RELEASE_JOB if job.id.startswith(RELEASE_JOB + "-") else job.id
            last = self.last_runs.get(kind)
            out.append(
                {
                    "id": job.id,
                    "next_run": job.next_run_time.isoformat() if job.next_run_time else None,
                    "last_run": last.isoformat() if last else None,
                }
            )
        return out


def _release_job_id(when: datetime) -> str:
    return f"{RELEASE_JOB}-{when.timestamp():.3f}"
