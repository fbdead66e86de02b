"""The readers' site for tests: its settings, articles in Hindi, Arabic and English plus
hidden ones (withdrawn, embargoed, future-dated) that must never show, and the `Accept`
headers browsers send when a person opens a URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syndicate.core.config import Settings
from syndicate.store.base import Store
from syndicate.web.keys import REGENERATOR
from tests.helpers.clients import Client, app_on
from tests.helpers.records import hindi_record, record
from tests.helpers.settings import BASE_URL, READER_SECTIONS, build_settings
from tests.helpers.texts import ARABIC_BODY, ARABIC_HEADLINE

HIDDEN_HEADLINES = {
    "withdrawn-1": "Withdrawn story that must never show",
    "embargoed-1": "Embargoed story that must never show",
    "future-1": "Future-dated story that must never show",
}

# What browsers send when a person opens a URL (a navigation).
BROWSERS = {
    "chromium": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "firefox": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "safari": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "html only": "text/html",
}


def reader_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """The readers' sections (one right to left), the site's title, a 45 s feed lifetime."""
    values: dict[str, Any] = {"site_title": "Syndicate News", "feed_max_age": 45}
    return build_settings(tmp_path, sections=READER_SECTIONS, **{**values, **overrides})


def reader_records(base_url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(visible, hidden) records; visible ones use the service's own article URLs, so every
    link on the pages leads somewhere the test can open."""

    def own(article_id: str) -> str:
        return f"{base_url}/articles/{article_id}"

    visible = [
        hindi_record(
            "hi-1",
            canonical_url=own("hi-1"),
            authors=[{"name": "रमेश कुमार"}],
            sections=["global", "top-story", "india"],
        ),
        hindi_record(
            "hi-2",
            headline="मानसून केरल पहुंचा, किसानों में खुशी",
            summary="मौसम विभाग ने कहा कि मानसून तय समय से दो दिन पहले पहुंचा।",
            body_html="<p>तिरुवनंतपुरम: दक्षिण-पश्चिम मानसून आज केरल पहुंच गया।</p>",
            published="2024-05-30T08:15:00+05:30",
            sections=["india", "top-story"],
            canonical_url=own("hi-2"),
        ),
        record(
            "ar-1",
            headline=ARABIC_HEADLINE,
            summary="البورصات تسجل مكاسب قوية.",
            body_html=ARABIC_BODY,
            language="ar",
            sections=["arab-world", "global"],
            published="2024-04-29T09:00:00+03:00",
            canonical_url=own("ar-1"),
            authors=[{"name": "ليلى حسن"}],
        ),
        record(
            "en-1",
            headline="Council approves 12 km of cycle lanes",
            body_html="<p>The city council approved 12 km of new cycle lanes on Tuesday, "
            "after a year of consultations with residents, shopkeepers and bus operators, "
            "and a vote that split every party on the council down the middle.</p>"
            "<p>Work on the first stretch, along the river, begins in September.</p>",
            sections=["business"],
            canonical_url=own("en-1"),
        ),
        record(
            "en-2",
            headline="Markets steady <after> a week of gains & losses",
            summary="Traders wait for the central bank.",
            sections=["business"],
            published="2024-06-20T09:00:00Z",
            canonical_url="https://elsewhere.example/markets/en-2",
        ),
    ]
    hidden = [
        record("withdrawn-1", headline=HIDDEN_HEADLINES["withdrawn-1"], sections=["global"]),
        record(
            "embargoed-1",
            headline=HIDDEN_HEADLINES["embargoed-1"],
            sections=["global", "arab-world"],
            embargo_until="2099-03-01T09:00:00Z",
        ),
        record(
            "future-1",
            headline=HIDDEN_HEADLINES["future-1"],
            sections=["global", "business"],
            published="2099-01-01T00:00:00Z",
        ),
    ]
    return visible, hidden


async def fill(store: Store, base_url: str = BASE_URL) -> None:
    """Store the visible and hidden records; withdraw the withdrawn one."""
    visible, hidden = reader_records(base_url)
    now = datetime.now(UTC)
    for rec in [*visible, *hidden]:
        await store.put(rec, now=now)
    await store.withdraw("withdrawn-1", now=now)


@asynccontextmanager
async def reader_site(store: Store, tmp_path: Path) -> AsyncIterator[Client]:
    """The readers' site on `store` (opened by the caller), filled and regenerated."""
    await fill(store)
    async with app_on(store, reader_settings(tmp_path)) as client:
        results = await client.app[REGENERATOR].regenerate()
        assert [r.error for r in results] == [None] * len(results)
        yield client
