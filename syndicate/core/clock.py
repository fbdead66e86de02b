"""The one clock: what "now" is, as an aware UTC datetime.

The app factory (and, outermost, the CLI and the benchmark) build it once and pass it down;
nothing else in the package reads the wall clock. Timers that measure durations
(`time.monotonic`, `time.perf_counter`) are not the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock: the system's time, in UTC."""
    return datetime.now(UTC)
