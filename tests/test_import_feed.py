"""Existing feeds become records that keep their GUIDs: RSS 2.0, Atom 1.0, JSON Feed and a
WordPress export read item by item; then stored on SQLite and PostgreSQL, regenerated, and read
back from Syndicate's own RSS, Atom (feedparser) and JSON Feed (json) with the original GUIDs.
Re-importing changes nothing; a newer copy updates only what changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from syndicate.core.config import Settings
from syndicate.importing.feed import NotAFeed, read_feed
from syndicate.pipeline.imports import ImportResult, import_feed, summarise
from syndicate.pipeline.regenerate import Regenerator
from syndicate.pipeline.render_pool import RenderPool
from syndicate.pipeline.served import FeedCache
from syndicate.store.base import Store
from tests.helpers.imports import ATOM, RSS, WXR
from tests.helpers.settings import build_settings

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
IST = timezone(timedelta(hours=5, minutes=30))
RSS_GUIDS = [
    "https://old.example/business/rbi-policy-june-2024",
    "4711 at https://old.example",
    "tag:old.example,2024:upi-14-billion",
]
ATOM_GUIDS = [
    "tag:purani.example,2024:monsoon-kerala",
    "urn:uuid:5f1c0d6e-2f4b-4c8e-9a7d-1b2c3d4e5f60",
]
WXR_GUIDS = ["https://blog.example/?p=101", "https://blog.example/?p=102"]
JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Old JSON",
    "language": "en",
    "authors": [{"name": "The Desk"}],
    "items": [
        {
            "id": "2024-0042",
            "url": "https://json.example/2024/0042",
            "title": "Water metro opens its sixth route",
            "content_text": (
                "The water metro opened a sixth route.\n\nFerries run every 20 minutes."
            ),
            "summary": "A sixth route for the water metro.",
            "image": "https://json.example/img/ferry.jpg",
            "date_published": "2024-08-01T07:00:00+05:30",
            "date_modified": "2024-08-01T09:00:00+05:30",
            "tags": ["transport", "Kochi"],
        },
        {"id": 43, "title": "No date, no link", "content_html": "<p>Text.</p>"},
    ],
}


# -- reading each format -------------------------------------------------------------------------
def test_rss_items_are_read_field_by_field() -> None:
    feed = read_feed(RSS.read_bytes())
    assert (feed.format, feed.language) == ("RSS 2.0", "en-IN")
    rbi, sensex, upi = feed.entries
    assert [e.guid for e in feed.entries] == RSS_GUIDS
    assert rbi.headline == "RBI keeps repo rate at 6.5% for an eighth straight meeting"
    assert rbi.link == "https://old.example/business/rbi-policy-june-2024"
    assert rbi.published == datetime(2024, 6, 7, 10, 15, tzinfo=IST)
    assert rbi.published.utcoffset() == timedelta(hours=5, minutes=30)  # the source's offset
    assert rbi.authors == [{"name": "Asha Rao"}]
    assert rbi.tags == ["RBI", "interest rates"]
    assert rbi.summary == "The central bank held rates & kept its stance."
    assert rbi.body_html == (
        "<p>The Reserve Bank of India kept its repo rate at 6.5%.</p>"
        "<p>Governor Das said food prices <b>remained</b> a worry.</p>"
    )
    assert rbi.image == {
        "url": "https://old.example/img/rbi.jpg", "mime_type": "image/jpeg", "width": 1200,
        "height": 800,
    }  # fmt: skip
    assert sensex.authors == [{"name": "Vikram Shah", "email": "markets@old.example"}]
    assert sensex.summary is None  # only a description: it is the body
    assert (
        sensex.body_html == "<p>The BSE Sensex closed above 80,000 on Wednesday, led by banks.</p>"
    )
    assert sensex.image == {
        "url": "https://old.example/img/sensex.png",
        "mime_type": "image/png",
        "length": 48213,
    }
    assert upi.image is None
    assert upi.notes == ["enclosure audio/mpeg left out: a record holds images only"]


def test_atom_entries_are_read_with_their_language_and_dates() -> None:
    feed = read_feed(ATOM.read_bytes())
    assert (feed.format, feed.language) == ("Atom 1.0", "hi")
    monsoon, election = feed.entries
    assert [e.guid for e in feed.entries] == ATOM_GUIDS
    assert monsoon.published == datetime(2024, 5, 30, 9, 30, tzinfo=IST)
    assert monsoon.updated == datetime(2024, 5, 30, 12, 0, tzinfo=IST)
    assert monsoon.authors == [{"name": "राम शर्मा", "url": "https://purani.example/authors/ram"}]
    assert monsoon.tags == ["मौसम"]
    assert monsoon.summary == "दक्षिण-पश्चिम मानसून ने केरल तट पर दस्तक दी।"
    assert monsoon.language == "hi"
    # Atom has no `published` here: `updated` is the only date, so it is the publication.
    assert (election.published, election.updated) == (
        datetime(2024, 6, 4, 23, 30, tzinfo=IST),
        None,
    )


def test_a_wordpress_export_gives_its_published_posts() -> None:
    feed = read_feed(WXR.read_bytes())
    assert (feed.format, feed.language) == ("WordPress export (WXR)", "en-US")
    chopra, isl, draft, page, attachment = feed.entries
    assert [e.guid for e in (chopra, isl)] == WXR_GUIDS
    assert [e.skipped for e in (draft, page, attachment)] == [
        "a draft post, not a published one",
        "a WordPress page, not a post",
        "a WordPress attachment, not a post",
    ]
    assert chopra.published == datetime(2024, 8, 8, 21, 30, tzinfo=UTC)
    assert chopra.updated == datetime(2024, 8, 9, 6, 0, tzinfo=UTC)
    assert chopra.authors == [{"name": "Priya Menon"}]  # the display name, not the login
    assert chopra.tags == ["Athletics", "Paris 2024"]
    assert chopra.summary == "India's javelin star takes silver."
    assert chopra.body_html == (
        "<p>Neeraj Chopra threw 89.45 m to win silver.</p>\n"
        "<p>Arshad Nadeem of Pakistan won gold<br>\nwith an Olympic record.</p>\n"
        "<h2>What next</h2>\n<p>Chopra said he would <strong>keep working</strong>.</p>"
    )
    assert chopra.image == {
        "url": "https://blog.example/wp-content/uploads/2024/08/chopra.jpg",
        "caption": "Neeraj Chopra in the final",
    }
    assert isl.updated is None and isl.summary is None


def test_a_json_feed_is_read() -> None:
    feed = read_feed(json.dumps(JSON_FEED).encode())
    assert (feed.format, feed.language) == ("JSON Feed 1.1", "en")
    ferry, bare = feed.entries
    assert (ferry.guid, ferry.link) == ("2024-0042", "https://json.example/2024/0042")
    assert ferry.body_html == (
        "<p>The water metro opened a sixth route.</p>\n<p>Ferries run every 20 minutes.</p>"
    )
    assert (ferry.summary, ferry.tags) == (
        "A sixth route for the water metro.",
        ["transport", "Kochi"],
    )
    assert ferry.authors == [{"name": "The Desk"}]
    assert ferry.image == {"url": "https://json.example/img/ferry.jpg"}
    assert (bare.guid, bare.link, bare.published) == ("43", None, None)


@pytest.mark.parametrize(
    "data", [b"", b"<html><body>not a feed</body></html>", b"{}", b'{"version": "1"}', b"\xff\xfe"]
)
def test_anything_else_is_not_a_feed(data: bytes) -> None:
    with pytest.raises(NotAFeed, match="not"):
        read_feed(data)


# -- stored, regenerated, read back ------------------------------------------------------------
def _settings(tmp_path: Path) -> Settings:
    return build_settings(tmp_path)


async def _import(
    store: Store | None, settings: Settings, path: Path, section: str, data: bytes | None = None
) -> list[ImportResult]:
    feed = read_feed(data if data is not None else path.read_bytes())
    return await import_feed(path.name, feed, settings, store, section, now=NOW)


async def test_imported_items_come_out_of_our_feeds_with_their_guids(
    store: Store, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    for path, section in ((RSS, "business"), (ATOM, "india"), (WXR, "sport")):
        results = await _import(store, settings, path, section)
        assert {r.outcome for r in results} <= {"created", "skipped"}, [
            r.as_dict() for r in results
        ]
    cache = FeedCache()
    await Regenerator(settings, store, cache, pool=RenderPool(0)).regenerate()
    for section, guids in (("business", RSS_GUIDS), ("india", ATOM_GUIDS), ("sport", WXR_GUIDS)):
        rss, atom, jsonfeed = (cache.get(section, n) for n in ("rss.xml", "atom.xml", "feed.json"))
        assert rss is not None and atom is not None and jsonfeed is not None
        assert sorted(e.id for e in feedparser.parse(rss.body).entries) == sorted(guids)
        assert sorted(i["id"] for i in json.loads(jsonfeed.body)["items"]) == sorted(guids)
        atom_ids = sorted(e.id for e in feedparser.parse(atom.body).entries)
        if section == "business":  # "4711 at https://…" is no IRI: that entry keeps our URN
            [urn] = [i for i in atom_ids if i.startswith("urn:syndicate:article:item-")]
            assert sorted(g for g in guids if " " not in g) == sorted(set(atom_ids) - {urn})
        else:
            assert atom_ids == sorted(guids)
    # A permalink only where the guid is the item's link.
    served = cache.get("business", "rss.xml")
    assert served is not None
    guids = etree.fromstring(served.body).iter("guid")
    permalinks = {g.text: g.get("isPermaLink") for g in guids}
    assert permalinks == {RSS_GUIDS[0]: "true", RSS_GUIDS[1]: "false", RSS_GUIDS[2]: "false"}


async def test_reimporting_a_feed_changes_nothing(store: Store, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    for path, section in ((RSS, "business"), (ATOM, "india"), (WXR, "sport"), (RSS, "business")):
        await _import(store, settings, path, section)
    seq = await store.max_seq()
    for path, section in ((RSS, "business"), (ATOM, "india"), (WXR, "sport")):
        again = await _import(store, settings, path, section)
        assert {r.outcome for r in again} <= {"unchanged", "skipped"}, [r.as_dict() for r in again]
        assert {r.version for r in again if r.outcome == "unchanged"} == {1}
    assert await store.max_seq() == seq  # not one change written


async def test_a_newer_copy_of_a_feed_updates_only_what_changed(
    store: Store, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    first = await _import(store, settings, RSS, "business")
    text = RSS.read_text("utf-8")
    newer = text.replace(
        "<title>Sensex closes above 80,000 for the first time</title>",
        "<title>Sensex closes above 80,000 for the first time, led by banks</title>",
    ).replace(
        "  </channel>",
        "    <item><title>Nifty ends the week higher</title>"
        "<link>https://old.example/business/nifty-week</link>"
        "<guid>https://old.example/business/nifty-week</guid>"
        "<pubDate>Fri, 05 Jul 2024 16:00:00 +0530</pubDate>"
        "<description>The Nifty rose 1.2% this week.</description></item>\n  </channel>",
    )
    assert newer != text
    results = await _import(store, settings, RSS, "business", newer.encode())
    assert [(r.id, r.outcome) for r in results] == [
        (first[0].id, "unchanged"),
        (first[1].id, "updated"),
        (first[2].id, "unchanged"),
        (results[3].id, "created"),
    ]
    stored = await store.get(first[1].id or "")
    assert stored is not None and stored.version == 2
    assert stored.guid == RSS_GUIDS[1]
    assert stored.headline.endswith("led by banks")


async def test_an_item_without_a_date_keeps_its_first_import_time(
    store: Store, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    data = json.dumps(JSON_FEED).encode()
    feed = read_feed(data)
    first = await import_feed("f.json", feed, settings, store, "india", now=NOW)
    later = NOW + timedelta(days=3)
    again = await import_feed("f.json", read_feed(data), settings, store, "india", now=later)
    assert [r.outcome for r in first] == ["created", "created"]
    assert [r.outcome for r in again] == ["unchanged", "unchanged"]
    assert again[1].record is not None
    assert again[1].record["published"] == "2026-01-02T03:04:05+00:00"
    assert again[1].record["canonical_url"] == f"https://news.example/articles/{again[1].id}"
    assert summarise(again)["unchanged"] == 2
