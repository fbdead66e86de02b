"""A leader that stops answering loses the timer: PostgreSQL ends its quiet lock session.

A frozen process (SIGSTOP, a blocked loop) is played by a store that simply stops calling
`try_lead`: its kernel would keep the TCP connection alive, and so does this test's.
"""

from __future__ import annotations

import time

import pytest

from syndicate.store.postgres import LEASE_SECONDS
from tests.helpers.stores import PgFactory
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.postgres


async def test_a_silent_leader_loses_the_timer_within_five_seconds(pg_factory: PgFactory) -> None:
    frozen, other = pg_factory(), pg_factory()
    await frozen.open()
    await other.open()
    assert await frozen.try_lead()
    assert not await other.try_lead()
    stopped = time.monotonic()

    async def took_over() -> bool:
        return await other.try_lead()

    await wait_until(took_over, timeout=5.0, what="another store to take the timer")
    takeover = time.monotonic() - stopped
    assert LEASE_SECONDS - 0.5 <= takeover < 5.0, takeover
    # The frozen one wakes up: it must find it no longer leads before doing anything.
    assert not await frozen.try_lead()


async def test_a_leader_that_keeps_renewing_keeps_the_timer(pg_factory: PgFactory) -> None:
    leader, other = pg_factory(), pg_factory()
    await leader.open()
    await other.open()
    assert await leader.try_lead()
    until = time.monotonic() + LEASE_SECONDS + 1.5

    async def past_the_lease() -> bool:
        # Renewed at every poll (the scheduler does it every second).
        assert await leader.try_lead(), "the renewing leader lost the timer"
        assert not await other.try_lead(), "another store took a renewed lease"
        return time.monotonic() > until

    await wait_until(past_the_lease, timeout=LEASE_SECONDS + 5, what="the lease period to pass")
