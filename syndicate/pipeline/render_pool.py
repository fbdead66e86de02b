"""Rendering off the event loop: a section's feeds are rendered and gzipped in worker processes.

Renderers are pure functions of (context, section, articles) -> bytes, so they can run anywhere.
Run on the loop, they held every reader of every feed while a section rendered (p99 196 ms
during a full pass). Threads would not help: rendering is Python holding the GIL. A process
pool does. Its workers run only when the cores have nothing else to do (Linux's SCHED_IDLE;
elsewhere nice 19), so on a busy machine the readers' loop always comes first. The pool is one
per process, shared by every app in it, and is started with the app. A section always renders
in the same worker, where its fragments are.

A worker that crashes, or finishes nothing for `RENDER_TIMEOUT`, is a section error: that
worker is replaced, the section keeps its last good feeds, and the service goes on.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import logging
import multiprocessing
import os
import select
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from syndicate.core.compression import gzip_fast
from syndicate.core.config import Section
from syndicate.core.model import Article, StoredArticle
from syndicate.pipeline.publish import gzip_bytes
from syndicate.pipeline.served import strong_etag
from syndicate.render import FORMATS, FeedContext, Fitted, render_feed_counted
from syndicate.render.fragments import DEFAULT_BUDGET as DEFAULT_CACHE_BYTES
from syndicate.render.fragments import FragmentCache

log = logging.getLogger(__name__)

RENDER_TIMEOUT = 60.0  # a section renders in milliseconds; a minute is a hung renderer
WORKER_NICENESS = 19  # where SCHED_IDLE is not to be had
T = TypeVar("T")


class RenderFailed(RuntimeError):
    """A worker died or hung while rendering a section."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """One format of a section as a worker made it: the fitted body, its ETag, its gzip copy.

    When the ETag matches what is served already (`served`), the body is left out (empty)
    and so is the gzip copy: the caller has those bytes, and a full pass where nothing
    changed sent ~1 MB a section back through the pipe for nothing.

    A section's gzip copy is the fast one (`publish.gzip_fast`): the smaller copies follow in
    the background. A document rendered on demand gets the small one at once (it has no
    background step, and is rendered once per many readers)."""

    format: str
    filename: str
    fitted: Fitted
    etag: str
    gzip: bytes | None
    served: bool = False


def render_section(
    ctx: FeedContext,
    section: Section,
    stored: Sequence[StoredArticle],
    served_etags: dict[str, str],
) -> list[Rendered]:
    """Every reader format of one section (runs in a worker, or in-process)."""
    out = []
    fragments = FRAGMENTS if FRAGMENTS.budget > 0 else None
    articles = [DECODED.article(s) for s in stored] if fragments else [s.article() for s in stored]
    for name, fmt in FORMATS.items():
        fitted = render_feed_counted(name, ctx, section, articles, fragments)
        etag = strong_etag(fitted.body)
        if served_etags.get(fmt.filename) == etag:
            out.append(Rendered(name, fmt.filename, replace(fitted, body=b""), etag, None, True))
        else:
            out.append(Rendered(name, fmt.filename, fitted, etag, gzip_fast(fitted.body)))
    return out


# This process's item fragments (each worker has its own; a section renders in its home
# worker, and only after that worker is replaced does it find none: a render, never a wrong
# byte).
FRAGMENTS = FragmentCache()


class DecodedArticles:
    """The articles this worker decoded lately, by their stored form: after a story changes,
    a section's other 49 are not decoded again. The same Article objects come back too,
    which the fragment cache's keys then hash and compare cheaply."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._articles: OrderedDict[StoredArticle, Article] = OrderedDict()

    def article(self, stored: StoredArticle) -> Article:
        found = self._articles.get(stored)
        if found is not None:
            self._articles.move_to_end(stored)
            return found
        found = self._articles[stored] = stored.article()
        if len(self._articles) > self.size:
            self._articles.popitem(last=False)
        return found


DECODED = DecodedArticles()

# Documents rendered on demand (tag, author and archive feeds) keep their own, smaller
# fragments: a reader asking for many tags must not push the section feeds' out.
ON_DEMAND_FRAGMENTS = FragmentCache(16 * 1024 * 1024)


def render_document(
    ctx: FeedContext, section: Section, articles: Sequence[Article], name: str
) -> Rendered:
    """One format of a document rendered on demand, with its ETag and gzip copy."""
    fitted = render_feed_counted(name, ctx, section, articles, ON_DEMAND_FRAGMENTS)
    etag = strong_etag(fitted.body)
    return Rendered(name, FORMATS[name].filename, fitted, etag, gzip_bytes(fitted.body))


Worker = Callable[[FeedContext, Section, Sequence[StoredArticle], dict[str, str]], list[Rendered]]


def _start_worker(cache_bytes: int, server_pid: int) -> None:
    _end_with(server_pid)
    FRAGMENTS.resize(cache_bytes)
    _yield_to_readers()


def _yield_to_readers() -> None:
    """Run only on cores the readers' loop leaves idle. At nice 10 a worker still held a core
    the loop had just woken for (readers' 304 p99 during back-to-back full passes 4.6-5.2x
    idle here; nice 19: 3.9-5.3x); a SCHED_IDLE task gives way at once (3.4-4.0x), and still
    has every core when readers leave them idle. On a machine saturated by readers, renders
    slow down instead of readers (see `RenderPool` for why they are not timed out then)."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):  # not Linux, or not allowed here
        pass
    with contextlib.suppress(OSError):  # not allowed either: render at the normal priority
        os.nice(WORKER_NICENESS)


def _end_with(pid: int) -> None:
    """End this worker when the process that started the pool ends, even by SIGKILL (which
    runs no cleanup): else the worker waits on its queue for good, and keeps the forkserver
    (its parent) alive with it, so the kernel's parent-death signal cannot help either."""
    try:
        watched: int | None = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(0)
    except (AttributeError, OSError):  # no pidfd here: look every few seconds instead
        watched = None

    def watch() -> None:
        if watched is not None:
            select.select([watched], [], [])
        else:
            while _alive(pid):
                time.sleep(2.0)
        os._exit(0)

    threading.Thread(target=watch, name="syndicate-end-with-server", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


class RenderPool:
    """Worker processes for `render_section`; `workers=0` renders in-process instead.

    Each worker keeps up to `cache_bytes` of rendered item fragments (0: none). A section
    goes to the same worker every time (`home`), so the fragments it needs are there: sent
    to whichever worker was free, a section found its items in the other one half the
    time, and a run after one new story rendered all fifty cold. Work without a home (the
    small copies, documents on demand) goes to the least busy worker.

    A worker is hung when it has finished nothing for `timeout` seconds while work waited
    for it, not when one call took that long: a 500-section pass queues 250 sections on a
    worker, and on cores busy with readers (the workers yield to them) the last ones wait
    their turn for longer than a render could ever hang.
    """

    def __init__(self, workers: int, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.workers = workers
        self.cache_bytes = cache_bytes
        self.worker: Worker = render_section  # tests put a crashing or hanging one here
        self.timeout = RENDER_TIMEOUT
        # One single-process executor a worker: a task can be sent to the worker it needs.
        self._pools: list[ProcessPoolExecutor | None] = [None] * workers
        self._busy = [0] * workers
        # When each worker last showed progress: finished a call, or was given work idle.
        self._progress = [0.0] * workers
        self._hung: weakref.WeakSet[ProcessPoolExecutor] = weakref.WeakSet()  # killed for it

    def _executor(self, index: int = 0) -> ProcessPoolExecutor:
        pool = self._pools[index]
        if pool is None:
            # forkserver: workers start from a clean process, never a fork of one holding
            # an event loop, database threads and sockets.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["syndicate.pipeline.render_pool"])
            pool = self._pools[index] = ProcessPoolExecutor(
                max_workers=1,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self.cache_bytes, os.getpid()),
            )
            _widen_pipes(pool)
        return pool

    async def render(
        self,
        ctx: FeedContext,
        section: Section,
        articles: Sequence[StoredArticle],
        served_etags: dict[str, str],
        *,
        home: int | None = None,
    ) -> list[Rendered]:
        """Render one section; `home` (any int, e.g. the section's place in the config)
        picks its worker, the same one every time."""
        if self.workers == 0:
            FRAGMENTS.resize(self.cache_bytes)  # this process's own, shared by its apps
            return self.worker(ctx, section, articles, served_etags)
        return await self._call(home, self.worker, ctx, section, articles, served_etags)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` (a pure, picklable function) in the least busy worker, with the same
        crash and timeout handling as a section render; in-process when `workers` is 0."""
        if self.workers == 0:
            return fn(*args)
        return await self._call(None, fn, *args)

    async def _call(self, home: int | None, fn: Callable[..., T], *args: Any) -> T:
        index = home % self.workers if home is not None else self._least_busy()
        pool = self._executor(index)
        if not self._busy[index]:
            self._progress[index] = time.monotonic()
        self._busy[index] += 1
        try:
            future = pool.submit(fn, *args)
            future.add_done_callback(lambda _: self._progressed(index))
            return await self._result(index, asyncio.wrap_future(future))
        except BrokenProcessPool:
            if pool in self._hung:  # another call waiting on it found it hung first
                raise RenderFailed(self._hung_message) from None
            self._replace(index, pool)
            raise RenderFailed("a renderer worker died while rendering this section") from None
        except TimeoutError:
            self._hung.add(pool)
            self._replace(index, pool, kill=True)
            raise RenderFailed(self._hung_message) from None
        finally:
            self._busy[index] -= 1

    @property
    def _hung_message(self) -> str:
        return f"rendering took longer than {self.timeout:g} s"

    def _progressed(self, index: int) -> None:
        self._progress[index] = time.monotonic()  # a float store: safe from the pool's thread

    async def _result(self, index: int, result: asyncio.Future[T]) -> T:
        """The call's result; TimeoutError once its worker has finished nothing for
        `timeout` seconds (calls ahead of it finishing are progress)."""
        while True:
            quiet = time.monotonic() - self._progress[index]
            if quiet >= self.timeout:
                result.cancel()
                raise TimeoutError
            try:
                done, _ = await asyncio.wait({result}, timeout=self.timeout - quiet)
            except asyncio.CancelledError:
                result.cancel()  # not started yet: never started
                raise
            if done:
                return result.result()

    def _least_busy(self) -> int:
        return min(range(self.workers), key=self._busy.__getitem__)

    async def render_one(
        self, ctx: FeedContext, section: Section, articles: Sequence[Article], name: str
    ) -> Rendered:
        """One format of a document rendered on demand (see `render_document`)."""
        return await self.call(render_document, ctx, section, articles, name)

    def start(self) -> None:
        """Start every worker now, and wait until they are up. Blocking: call it in a thread
        (spawning a worker holds its caller for tens of milliseconds; on the loop, at a
        section's first render, that held every reader)."""
        started = [self._executor(index).submit(_up) for index in range(self.workers)]
        for future in started:
            future.result(timeout=self.timeout)

    def alive(self) -> int:
        """How many worker processes are running now."""
        return sum(1 for process in self._processes() if process.is_alive())

    def _processes(self) -> list[Any]:
        # The executors' own table of their processes (private: nothing public lists them).
        return [
            process
            for pool in self._pools
            for process in (getattr(pool, "_processes", None) or {}).values()
        ]

    def _replace(self, index: int, pool: ProcessPoolExecutor, *, kill: bool = False) -> None:
        """Drop a broken or hung worker; the next task for it starts a fresh one."""
        if kill:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        if self._pools[index] is pool:
            self._pools[index] = None

    def close(self) -> None:
        for index, pool in enumerate(self._pools):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
                self._pools[index] = None


# Linux's F_SETPIPE_SZ (fcntl names it on Linux only).
_SET_PIPE_SIZE = getattr(fcntl, "F_SETPIPE_SZ", 1031)
PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged process


def _widen_pipes(pool: ProcessPoolExecutor) -> None:
    """Let a section's articles and its rendered feeds (~0.3 MB out, ~1 MB back) go through
    the pool's pipes in one write: through the default 64 KiB, the two processes took turns
    sixteen times a call (echoes here: 1.3 MB 8.2 ms through 64 KiB pipes, 6.3 ms through
    1 MiB ones; 1.0 MB 2.3 ms, in one write each way). Best effort:
    another system keeps its own pipe size. (The queues' pipes are the executor's private
    attributes; without them, the default size stays.)"""
    for queue, end in (("_call_queue", "_writer"), ("_result_queue", "_reader")):
        conn = getattr(getattr(pool, queue, None), end, None)
        if conn is None:
            continue
        with contextlib.suppress(OSError, ValueError):
            fcntl.fcntl(conn.fileno(), _SET_PIPE_SIZE, PIPE_BYTES)


def _up() -> None:
    """A worker's first task: nothing, once it is running."""


_SHARED: dict[tuple[int, int], RenderPool] = {}


def shared_pool(workers: int, cache_bytes: int = DEFAULT_CACHE_BYTES) -> RenderPool:
    """The process's pool of this shape (every app in a process shares it)."""
    pool = _SHARED.get((workers, cache_bytes))
    if pool is None:
        pool = _SHARED[workers, cache_bytes] = RenderPool(workers, cache_bytes)
    return pool


@atexit.register
def _close_all() -> None:
    for pool in _SHARED.values():
        pool.close()


def default_workers() -> int:
    """One worker a core: they yield to the readers' loop whenever it has work, and a full
    pass uses every core when it has not (on 2 cores, one worker left the other idle while
    readers waited for nothing)."""
    return max(1, os.cpu_count() or 1)
