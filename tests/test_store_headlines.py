"""The store's headline lookup for imported "also read" teasers, on SQLite and PostgreSQL.

Only public articles answer: an embargoed, future-dated or withdrawn story's URL must not
reach an imported page's related links.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syndicate.store.base import Store
from tests.helpers.records import record
from tests.helpers.texts import AYODHYA

NOW = datetime(2024, 6, 20, 12, 0, tzinfo=UTC)


async def test_public_articles_are_found_by_their_exact_headline(store: Store) -> None:
    await store.put(record("a", headline=AYODHYA), now=NOW)
    await store.put(record("b", headline="Sensex closes above 80,000"), now=NOW)
    found = await store.public_urls_by_headline(
        [AYODHYA, "Sensex closes above 80,000", "Sensex closes above 80,000.", "nothing"],
        now=NOW,
    )
    assert found == {
        AYODHYA: "https://news.example/india/a",
        "Sensex closes above 80,000": "https://news.example/india/b",
    }


async def test_held_and_withdrawn_articles_are_not_found(store: Store) -> None:
    later = (NOW + timedelta(hours=1)).isoformat()
    await store.put(record("held", headline="Held", embargo_until=later), now=NOW)
    await store.put(record("future", headline="Future", published=later), now=NOW)
    await store.put(record("gone", headline="Gone"), now=NOW)
    await store.withdraw("gone", now=NOW)
    assert await store.public_urls_by_headline(["Held", "Future", "Gone"], now=NOW) == {}
    # Once released, the embargoed one is public like any other.
    found = await store.public_urls_by_headline(["Held"], now=NOW + timedelta(hours=2))
    assert found == {"Held": "https://news.example/india/held"}


async def test_the_newest_version_and_the_newest_article_win(store: Store) -> None:
    await store.put(record("old", headline="Same", published="2024-06-01T10:00:00Z"), now=NOW)
    await store.put(record("new", headline="Same", published="2024-06-02T10:00:00Z"), now=NOW)
    await store.put(record("renamed", headline="Before"), now=NOW)
    await store.put(record("renamed", headline="After"), now=NOW)
    found = await store.public_urls_by_headline(["Same", "Before", "After"], now=NOW)
    assert found == {
        "Same": "https://news.example/india/new",
        "After": "https://news.example/india/renamed",
    }


async def test_nothing_asked_nothing_found(store: Store) -> None:
    assert await store.public_urls_by_headline([], now=NOW) == {}
    assert await store.public_urls_by_headline(["with \x00 nul"], now=NOW) == {}
