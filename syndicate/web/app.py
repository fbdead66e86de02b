"""The app factory: wires settings, store, clock, serving cache, regenerator and scheduler.

`create_app` only wires; resources open and close in cleanup contexts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from aiohttp import web

from syndicate.core.clock import Clock, utc_now
from syndicate.core.config import Settings
from syndicate.pipeline.regenerate import Regenerator, SectionResult
from syndicate.pipeline.served import FeedCache
from syndicate.service.metrics import Metrics
from syndicate.service.push import Pusher
from syndicate.service.schedule import Scheduler
from syndicate.service.websub import WebSubPublisher
from syndicate.store import open_store
from syndicate.store.base import Store
from syndicate.web import (
    api,
    article_page,
    articles_api,
    auth,
    desk,
    feeds,
    import_api,
    partners,
    push_api,
    reach,
    reader_pages,
    status_api,
    templating,
    tokens_api,
)
from syndicate.web.keys import (
    CACHE,
    CLOCK,
    METRICS,
    PUSHER,
    REGENERATOR,
    SCHEDULER,
    SETTINGS,
    STORE,
    WEBSUB,
)
from syndicate.web.middleware import error_middleware, quiet_client_errors

log = logging.getLogger("syndicate.web")

# Present only when `settings.websub_hub` is set. (Belongs in web/keys.py with the others.)


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    run_scheduler: bool | None = None,
    clock: Clock = utc_now,
) -> web.Application:
    """The aiohttp application.

    A passed-in `store` is used as is (the caller opens and closes it); otherwise one is
    opened from `settings.database_url` for the app's lifetime. `run_scheduler` overrides
    `settings.run_scheduler` (tests turn the timer off). `clock` is what "now" is for the
    whole app: handlers, token checks, regenerator, scheduler, pushes, status.
    """
    quiet_client_errors()
    app = web.Application(
        middlewares=[error_middleware], client_max_size=settings.max_request_bytes
    )
    owns_store = store is None
    the_store = store if store is not None else open_store(settings.database_url)
    cache = FeedCache()
    metrics = Metrics()
    metrics.watch_store(the_store.health)
    regenerator = Regenerator(settings, the_store, cache, clock=clock)
    regenerator.observers.append(
        lambda r: metrics.regenerated(r.section, _outcome(r), r.milliseconds / 1000)
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[STORE] = the_store
    app[CACHE] = cache
    app[METRICS] = metrics
    app[REGENERATOR] = regenerator
    publisher = (
        WebSubPublisher(settings, metrics=metrics, clock=clock) if settings.websub_hub else None
    )
    if publisher is not None:
        app[WEBSUB] = publisher
    tasks: set[asyncio.Task[Any]] = set()  # kept referenced until done

    def spawn(coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        if owns_store:
            await the_store.open()
        try:
            yield
        finally:
            if owns_store:
                await the_store.close()

    async def feeds_ctx(app: web.Application) -> AsyncIterator[None]:
        # The render workers start now, in a thread: started by a section's first render,
        # they would hold the loop (and every reader) while they spawn.
        await asyncio.to_thread(regenerator.pool.start)
        # Another process regenerated: take its bytes, so every process serves the same.
        # Listening before loading: a save between the load and the LISTEN was heard by no
        # one, and this process served nothing of it until the next save.
        follower = _FeedFollower(regenerator)
        spawn(follower.run())
        await the_store.subscribe_feeds(follower.saved)
        loaded = await regenerator.load_published()
        log.info("serving %d stored feed documents", loaded)
        yield
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # After the runs have drained (the scheduler's context closes first): their copies.
        await regenerator.close()

    async def websub_ctx(app: web.Application) -> AsyncIterator[None]:
        if publisher is None:
            yield
            return
        await publisher.start()
        regenerator.listeners.append(publisher)
        try:
            yield
        finally:
            regenerator.listeners.remove(publisher)
            await publisher.close()

    async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
        wanted = settings.run_scheduler if run_scheduler is None else run_scheduler
        scheduler = None
        if wanted:
            scheduler = Scheduler(settings, the_store, regenerator, metrics=metrics, clock=clock)
            app[SCHEDULER] = scheduler
            await scheduler.start()
            # Pushes go out from the process that runs the timer (the leader), and from no
            # other: each delivery is attempted by one process at a time.
            leader = scheduler
            pusher = Pusher(
                settings,
                the_store,
                leading=lambda: leader.is_leader,
                on_delivered=metrics.pushed,
                on_round=metrics.push_round,
                clock=clock,
            )
            app[PUSHER] = pusher
            await pusher.start()
        try:
            yield
        finally:
            if PUSHER in app:
                await app[PUSHER].stop()
            if scheduler is not None:
                await scheduler.stop()
            # Runs started by the API finish before the store closes under them.
            await regenerator.drain()

    app.cleanup_ctx.extend([store_ctx, feeds_ctx, websub_ctx, scheduler_ctx])
    templating.setup(app)
    feeds.setup(app, settings)
    reach.setup(app)
    reader_pages.setup(app, settings)
    article_page.setup(app, settings.feed_max_age)
    api.setup(app)
    status_api.setup(app)
    articles_api.setup(app)
    import_api.setup(app)
    partners.setup(app)
    tokens_api.setup(app)
    push_api.setup(app)
    auth.setup(app)
    desk.setup(app)
    return app


class _FeedFollower:
    """Reloads the sections another process saved, one load at a time.

    Loads running side by side could finish out of order and leave an older snapshot in the
    cache; one after the other, the load that follows the last notification reads the last
    save. Notifications for a section already waiting collapse into one load. A load that
    fails (database away) is retried: until then the process serves what it has.
    """

    def __init__(self, regenerator: Regenerator) -> None:
        self._regenerator = regenerator
        self._pending: set[str] = set()
        self._wake = asyncio.Event()

    def saved(self, section: str) -> None:
        self._pending.add(section)
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            sections, self._pending = sorted(self._pending), set()
            for n, section in enumerate(sections):
                try:
                    await self._regenerator.load_published(section)
                except Exception as exc:
                    log.warning("cannot load feeds of %s saved elsewhere: %s", section, exc)
                    self._pending.update(sections[n:])
                    self._wake.set()
                    await asyncio.sleep(_RELOAD_RETRY_SECONDS)
                    break


_RELOAD_RETRY_SECONDS = 1.0


def _outcome(result: SectionResult) -> str:
    if result.error or result.files_error:
        return "error"
    return "changed" if result.changed else "unchanged"
