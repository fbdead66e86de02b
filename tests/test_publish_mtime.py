"""Published files carry the feed's own Last-Modified as their mtime, so static servers on
every host give the same Last-Modified (and nginx, mtime and size, the same ETag)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from syndicate.pipeline.publish import publish, write_copy
from syndicate.pipeline.regenerate import Regenerator
from syndicate.pipeline.served import FeedCache
from syndicate.store.base import Store
from tests.helpers.readers import fill, reader_settings
from tests.helpers.settings import BASE_URL

WHEN = datetime(2024, 5, 1, 4, 30, 7, tzinfo=UTC).timestamp()


def _mtimes(folder: Path, name: str) -> dict[str, float]:
    return {p.name: p.stat().st_mtime for p in folder.iterdir() if p.name.startswith(name)}


def test_a_published_feed_and_its_copies_get_the_given_mtime(tmp_path: Path) -> None:
    assert publish(tmp_path, "global", "rss.xml", b"<rss/>", mtime=WHEN) is True
    assert _mtimes(tmp_path / "global", "rss.xml") == {
        "rss.xml": WHEN,
        "rss.xml.gz": WHEN,
        "rss.xml.br": WHEN,
    }
    write_copy(tmp_path, "global", "rss.xml", ".br", b"x", mtime=WHEN + 1)
    assert (tmp_path / "global" / "rss.xml.br").stat().st_mtime == WHEN + 1


def test_an_unchanged_feed_gets_the_mtime_too(tmp_path: Path) -> None:
    # Written before mtimes were set (or by a host whose render came second): put right.
    assert publish(tmp_path, "global", "rss.xml", b"<rss/>") is True
    assert publish(tmp_path, "global", "rss.xml", b"<rss/>", mtime=WHEN) is False
    assert set(_mtimes(tmp_path / "global", "rss.xml").values()) == {WHEN}


def test_without_an_mtime_nothing_is_touched(tmp_path: Path) -> None:
    publish(tmp_path, "global", "rss.xml", b"<rss/>")
    path = tmp_path / "global" / "rss.xml"
    os.utime(path, (WHEN, WHEN))
    assert publish(tmp_path, "global", "rss.xml", b"<rss/>") is False
    assert path.stat().st_mtime == WHEN


async def test_regenerated_files_carry_each_feeds_last_modified(
    store: Store, tmp_path: Path
) -> None:
    await fill(store, BASE_URL)
    settings = reader_settings(tmp_path)
    cache = FeedCache()
    rendered_at = datetime(2024, 7, 1, 12, 30, 5, tzinfo=UTC)  # not the time of writing
    regenerator = Regenerator(settings, store, cache, clock=lambda: rendered_at)
    await regenerator.regenerate()
    await regenerator.settle()  # the brotli copies are written in the background
    checked = 0
    for slug in [*settings.section_slugs, "all"]:
        for name in ("rss.xml", "atom.xml", "feed.json"):
            served = cache.get(slug, name)
            assert served is not None
            found = _mtimes(settings.feeds_dir / slug, name)
            assert set(found) == {name, f"{name}.gz", f"{name}.br"}
            assert served.last_modified == rendered_at
            assert set(found.values()) == {rendered_at.timestamp()}, (slug, name)
            checked += 1
    assert checked == 3 * (len(settings.section_slugs) + 1)
