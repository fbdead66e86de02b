"""Articles for the partner renderers' tests: the context they render with, and records of
every kind a partner meets (plain, every field, Hindi from the seed page, messy HTML, held,
corrected, withdrawn) made into versioned `Article`s."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from syndicate.core.model import Article, Status
from syndicate.render.partner import PartnerContext
from tests.helpers.settings import BASE_URL
from tests.helpers.texts import (
    ARABIC_HEADLINE,
    EMOJI_HEADLINE,
    SEED_ALSO_READ,
    SEED_HEADLINE,
    SEED_PARA_2,
    SEED_PARA_3,
    SEED_SUMMARY,
)

CTX = PartnerContext(provider="syndicate.example", base_url=BASE_URL, provider_name="Syndicate")
IST = timezone(timedelta(hours=5, minutes=30))
T0 = datetime(2024, 6, 19, 9, 30, tzinfo=IST)
NOW = datetime(2024, 6, 21, 12, 0, tzinfo=UTC)

BASE_RECORD: dict[str, Any] = {
    "id": "budget-2024",
    "headline": "Budget passes after a long night",
    "body_html": "<p>The budget passed.</p>",
    "language": "en",
    "sections": ["global"],
    "published": "2024-06-19T09:30:00+05:30",
    "canonical_url": "https://news.example/global/budget-2024",
}

FULL_RECORD: dict[str, Any] = {
    **BASE_RECORD,
    "id": "full-en",
    "headline": "Markets rally as rates hold steady",
    "summary": "Stocks rose across Asia after the central bank held rates.",
    "body_html": (
        "<p>Stocks <b>rose</b> on Wednesday.</p><h2>Why</h2>"
        '<p>Analysts said <a href="https://news.example/x">rates</a> matter.</p>'
        "<ul><li>One</li><li>Two</li></ul><blockquote>Quote</blockquote>"
    ),
    "authors": [
        {"name": "Asha Rao", "url": "https://news.example/staff/asha", "email": "asha@x.example"},
        {"name": "Ben Cole"},
    ],
    "updated": "2024-06-19T11:00:00+05:30",
    "image": {
        "url": "https://cdn.news.example/img/markets.jpg",
        "caption": "Traders at the exchange",
        "credit": "Photo: Jane Doe",
        "width": 1600,
        "height": 900,
        "mime_type": "image/jpeg",
    },
    "tags": ["markets", "economy"],
    "subjects": ["medtop:04000000", "medtop:20000350"],
    "related": [
        {"url": "https://news.example/global/rates-explained", "title": "Rates, explained"},
        {"url": "https://news.example/global/asia-close"},
    ],
    "urgency": 3,
    "rights": {"holder": "Syndicate News Ltd", "usage_terms": "Editorial use only."},
    "editorial_note": "Adds analyst comment.",
}

SEED_RECORD: dict[str, Any] = {
    **BASE_RECORD,
    "id": "kim-putin-hi",
    "headline": SEED_HEADLINE,
    "summary": SEED_SUMMARY,
    "body_html": (
        f"<p>{SEED_SUMMARY}</p><p>{SEED_PARA_2}</p>"
        f"<p><em>{SEED_ALSO_READ}</em></p><p>{SEED_PARA_3}</p>"
    ),
    "language": "hi",
    "authors": [{"name": "संवाददाता"}],
    "tags": ["वैश्विक"],
    "subjects": ["medtop:11000000"],
}

MESSY_RECORD: dict[str, Any] = {
    **BASE_RECORD,
    "id": "messy-html",
    "headline": 'Is 3 < 5? Tom & Jerry say "yes" <b>not bold</b>',
    "summary": "A < B & C > D",
    "body_html": (
        "<p>Line one<br>line two&nbsp;with&nbsp;spaces"
        "<p>Unclosed paragraph &amp; <i>italic <b>bold</i> tail"
        '<ul><li>item one<li>item two</ul><img src="https://cdn.news.example/a.png" alt="a">'
        f"<p>{ARABIC_HEADLINE} {EMOJI_HEADLINE}"
    ),
}

EMBARGOED_RECORD: dict[str, Any] = {
    **BASE_RECORD,
    "id": "embargoed-report",
    "headline": "Report under embargo",
    "embargo_until": "2024-06-20T00:00:00Z",
}


def make_article(
    record: dict[str, Any],
    *,
    version: int = 1,
    status: Status = "published",
    version_created: datetime | None = None,
) -> Article:
    rec = copy.deepcopy(record)
    return Article.from_record(
        rec,
        version=version,
        status=status,
        first_created=T0,
        version_created=version_created or T0 + timedelta(minutes=5 * version),
    )


def corrected_article() -> Article:
    record = {**FULL_RECORD, "id": "corrected", "editorial_note": "Corrects the minister's name."}
    return make_article(record, version=3)


def withdrawn_article() -> Article:
    return make_article({**BASE_RECORD, "id": "withdrawn"}, version=2, status="withdrawn")


def every_kind_of_article() -> list[Article]:
    return [
        make_article(BASE_RECORD),
        make_article(FULL_RECORD, version=2),
        make_article(SEED_RECORD),
        make_article(MESSY_RECORD),
        make_article(EMBARGOED_RECORD),
        corrected_article(),
        withdrawn_article(),
    ]
