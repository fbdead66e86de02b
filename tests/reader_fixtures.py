"""Articles and sections for the readers' pages tests: Hindi, Arabic, English, and hidden ones.

Plain data and functions (no fixtures), shared by the HTTP, OPML, nginx and browser tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from syndicate.store.base import Store
from tests.conftest import SECTIONS
from tests.web_fixtures import ARABIC_HEADLINE, HINDI_HEADLINE, hindi_record, record

# The test sections plus one written right to left.
READER_SECTIONS: dict[str, Any] = {
    **SECTIONS,
    "arab-world": {
        "title": {"ar": "العالم العربي", "en": "Arab world"},
        "description": {"ar": "أخبار المنطقة العربية", "en": "News from the Arab world"},
        "language": "ar",
    },
}

ARABIC_BODY = "<p>ارتفعت الأسواق العالمية اليوم بعد إعلان البنوك المركزية عن خفض الفائدة.</p>"
HIDDEN_HEADLINES = {
    "withdrawn-1": "Withdrawn story that must never show",
    "embargoed-1": "Embargoed story that must never show",
    "future-1": "Future-dated story that must never show",
}


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


async def fill(store: Store, base_url: str) -> None:
    """Store the visible and hidden records; withdraw the withdrawn one."""
    visible, hidden = reader_records(base_url)
    now = datetime.now(UTC)
    for rec in [*visible, *hidden]:
        await store.put(rec, now=now)
    await store.withdraw("withdrawn-1", now=now)


__all__ = [
    "ARABIC_HEADLINE",
    "HIDDEN_HEADLINES",
    "HINDI_HEADLINE",
    "READER_SECTIONS",
    "fill",
    "reader_records",
]
