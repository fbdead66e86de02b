"""The release-delay benchmark runs end to end and reports no early release."""

from __future__ import annotations

from syndicate.bench.embargo import measure_release_delays


async def test_measure_release_delays_small() -> None:
    result = await measure_release_delays(2, lead=1.0)
    assert result["count"] == 2
    assert result["early"] == 0
    assert 0 <= result["median_ms"] <= result["worst_ms"] < 2000
