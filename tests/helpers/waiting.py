"""Waiting on conditions with deadlines (never a sleep and a hope): each failure names what
it waited for."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

POLL = 0.05


async def wait_until(
    condition: Callable[[], Awaitable[bool]], *, timeout: float, what: str, every: float = POLL
) -> float:
    """Poll `condition` until true; fail naming `what` after `timeout` seconds.

    Returns when (time.time()) the condition was first seen true.
    """
    deadline = time.monotonic() + timeout
    while True:
        if await condition():
            return time.time()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}")
        await asyncio.sleep(every)


def wait_until_sync(
    condition: Callable[[], bool], *, timeout: float, what: str, every: float = POLL
) -> None:
    """`wait_until` for threads with no event loop (subprocess and browser tests)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}")
        time.sleep(every)
