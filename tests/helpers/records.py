"""Article records for tests: one `record()` with keyword overrides, and the few kinds that
differ from it on purpose, each built on it and saying how it differs.

Records here are raw (what an editor sends) unless the name says `validated`.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from syndicate.core.config import Settings
from syndicate.validate import validate_record
from tests.helpers.settings import BASE_URL
from tests.helpers.texts import HINDI_BODY, HINDI_HEADLINE, HINDI_SUMMARY

# A fixed past: every numbered record is well released, whatever the clock says.
START = datetime(2024, 1, 1, tzinfo=UTC)


def record(article_id: str, **changes: Any) -> dict[str, Any]:
    """A small valid English article in `india`, published on 2024-06-19; `changes` replace
    fields (a value of None removes one)."""
    out: dict[str, Any] = {
        "id": article_id,
        "headline": f"Council approves cycle lanes ({article_id})",
        "body_html": "<p>The city council approved 12 km of new cycle lanes.</p>",
        "language": "en",
        "sections": ["india"],
        "published": "2024-06-19T10:00:00+05:30",
        "canonical_url": f"{BASE_URL}/india/{article_id}",
    }
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def hindi_record(article_id: str = "hi-1", **changes: Any) -> dict[str, Any]:
    """The Hindi sample (headline, summary, body) in `global` and `top-story`."""
    values: dict[str, Any] = {
        "headline": HINDI_HEADLINE,
        "summary": HINDI_SUMMARY,
        "body_html": HINDI_BODY,
        "language": "hi",
        "sections": ["global", "top-story"],
        "published": "2024-05-01T10:00:00+05:30",
        "canonical_url": f"{BASE_URL}/global/{article_id}",
    }
    return record(article_id, **{**values, **changes})


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def live_record(
    article_id: str,
    *,
    sections: list[str],
    published: datetime | None = None,
    embargo_until: datetime | None = None,
) -> dict[str, Any]:
    """Public now (published five minutes ago unless given), with the headline
    `headline <id>`, easy to look for in any served feed."""
    return record(
        article_id,
        headline=f"headline {article_id}",
        body_html=f"<p>body of {article_id}</p>",
        sections=sections,
        published=rfc3339(published or datetime.now(UTC) - timedelta(minutes=5)),
        canonical_url=f"{BASE_URL}/{article_id}",
        embargo_until=rfc3339(embargo_until) if embargo_until is not None else None,
    )


def validated_record(article_id: str, settings: Settings, **fields: Any) -> dict[str, Any]:
    """Validated and sanitised (what the store expects), in `global` (the section partner
    tokens get by default), with the headline `Headline of <id>`."""
    raw = record(
        article_id,
        headline=f"Headline of {article_id}",
        body_html=f"<p>Body of {article_id}.</p>",
        sections=["global"],
        canonical_url=f"{BASE_URL}/global/{article_id}",
    )
    raw.update(copy.deepcopy(fields))
    return validate_record(raw, settings)


def numbered_record(number: int, *, section: str = "india", **changes: Any) -> dict[str, Any]:
    """`s-{number:04d}`, headline `Story <number>`, published `number` minutes after START."""
    article_id = f"s-{number:04d}"
    values: dict[str, Any] = {
        "headline": f"Story {number}",
        "body_html": f"<p>Body of story {number}.</p>",
        "sections": [section],
        "published": (START + timedelta(minutes=number)).isoformat(),
        "canonical_url": f"{BASE_URL}/{section}/{article_id}",
    }
    return record(article_id, **{**values, **changes})


def store_record(article_id: str = "a1", **changes: Any) -> dict[str, Any]:
    """The store contract's record: Hindi, in `global`, headline and body naming the id (so
    two ids never share a content hash)."""
    values: dict[str, Any] = {
        "headline": f"खबर {article_id}",
        "body_html": f"<p>पूरी खबर {article_id}</p>",
        "language": "hi",
        "sections": ["global"],
        "canonical_url": f"{BASE_URL}/{article_id}",
    }
    return record(article_id, **{**values, **changes})
