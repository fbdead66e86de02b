"""SIGKILL in the middle of work: during a bulk ingest and during a regeneration.

After each kill the store opens, holds no partial record (every stored article is one of the
input records, whole), no feed file is half-written, and running the same work again
completes it exactly once (every article at version 1, every feed parses).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from syndicate.bench import corpus
from syndicate.core.config import load_settings
from syndicate.store.feed_bodies import unpacked
from syndicate.store.sqlite import SQLiteStore
from tests.helpers.processes import child_env

pytestmark = pytest.mark.slow
COUNT = 6000
SECTIONS = "".join(f'[sections.{s}]\ntitle = "{s}"\n' for s in corpus.SECTIONS)


def _folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / "syndicate.toml").write_text(
        '[syndicate]\nsite_title = "Crash"\n' + SECTIONS, encoding="utf-8"
    )
    lines = (json.dumps(r, ensure_ascii=False) for r in corpus.corpus(COUNT, seed=3))
    (tmp_path / "in.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path / "s.db", child_env(tmp_path, {})


def _syndicate(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "syndicate", "--config", "syndicate.toml", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.Error:
        return 0  # not created yet, or locked for a moment


def _kill_when(proc: subprocess.Popen[bytes], ready: object, what: str) -> None:
    deadline = time.monotonic() + 60
    while not ready():  # type: ignore[operator]
        assert proc.poll() is None, f"{what} finished before it could be killed"
        assert time.monotonic() < deadline, f"{what} never got under way"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


async def _stored(db: Path) -> list[tuple[str, int, dict[str, object]]]:
    store = SQLiteStore(f"sqlite:///{db}")
    await store.open()  # opens after the kill: WAL recovery, migrations recorded
    try:
        ids = [r["id"] for r in corpus.corpus(COUNT, seed=3)]
        found = []
        for article_id in ids:
            article = await store.get(article_id)
            if article is not None:
                found.append((article_id, article.version, dict(article.record)))
        return found
    finally:
        await store.close()


def test_a_bulk_ingest_killed_midway_leaves_whole_records_and_completes_once(
    tmp_path: Path,
) -> None:
    db, env = _folder(tmp_path)
    proc = _syndicate(tmp_path, env, "ingest", "in.ndjson")
    _kill_when(proc, lambda: _count(db, "SELECT COUNT(*) FROM articles") > 0, "the ingest")
    expected = {r["id"]: r for r in corpus.corpus(COUNT, seed=3)}
    settings = load_settings(tmp_path / "syndicate.toml", environ={})
    from syndicate.validate import validate_record

    before = asyncio.run(_stored(db))
    assert 0 < len(before) < COUNT, "the kill should land in the middle of the ingest"
    for article_id, version, record in before:
        assert version == 1
        assert record == validate_record(expected[article_id], settings)  # whole, as sent
    again = subprocess.run(
        [sys.executable, "-m", "syndicate", "--config", "syndicate.toml", "ingest", "--json",
         "in.ndjson"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    outcomes = [json.loads(line)["outcome"] for line in again.stdout.splitlines() if line]
    assert outcomes.count("unchanged") == len(before)
    assert outcomes.count("created") == COUNT - len(before)
    after = asyncio.run(_stored(db))
    assert len(after) == COUNT and {v for _, v, _ in after} == {1}
    assert _count(db, "SELECT COUNT(*) FROM changes") == COUNT  # each stored exactly once


def _check_feeds(feeds: Path) -> int:
    """Every file under a feed's name parses; how many."""
    checked = 0
    for path in feeds.rglob("*"):
        if path.is_dir() or path.name.endswith((".gz", ".br", ".tmp")):
            continue
        data = path.read_bytes()
        if path.suffix == ".json":
            json.loads(data)
        else:
            etree.fromstring(data)
        checked += 1
    return checked


def test_a_regeneration_killed_midway_leaves_no_partial_feed(tmp_path: Path) -> None:
    db, env = _folder(tmp_path)
    ingest = subprocess.run(
        [sys.executable, "-m", "syndicate", "--config", "syndicate.toml", "ingest", "in.ndjson"],
        cwd=tmp_path, env=env, capture_output=True, timeout=300,
    )  # fmt: skip
    assert ingest.returncode == 0
    feeds = tmp_path / "feeds"
    proc = _syndicate(tmp_path, env, "regenerate")
    _kill_when(proc, lambda: _count(db, "SELECT COUNT(*) FROM feeds") > 0, "the regeneration")
    assert _count(db, "SELECT COUNT(*) FROM feeds") < 3 * (len(corpus.SECTIONS) + 1)
    _check_feeds(feeds)  # whatever was written under a feed's name is whole
    # A temp file the kill cut short is never under a feed's name; the next write of that
    # feed sweeps it once it is old enough to be no one's write in progress.
    leftovers = list(feeds.rglob(".*.tmp"))
    for leftover in leftovers:
        os.utime(leftover, (time.time() - 120, time.time() - 120))
    # The stored documents (what a restarted process serves) are whole too.
    with sqlite3.connect(db) as conn:
        for name, data, encoding in conn.execute("SELECT name, body, encoding FROM feeds"):
            body, _ = unpacked(data, encoding)
            json.loads(body) if name.endswith(".json") else etree.fromstring(body)
    again = subprocess.run(
        [sys.executable, "-m", "syndicate", "--config", "syndicate.toml", "regenerate"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    # Three feeds a section and `all`, and the OPML list.
    assert _check_feeds(feeds) == 3 * (len(corpus.SECTIONS) + 1) + 1
    assert not [p for p in leftovers if p.exists()]
