"""The issue's acceptance test: a partner pulling by cursor while 5,000 updates are ingested
sees every change exactly once, each article's versions in increasing order.

On PostgreSQL half of the ingest comes through a second store instance (another process's
connection pool), so the change log's commit order is what is being tested.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest

from syndicate.core.config import Settings
from syndicate.store.base import Store
from syndicate.store.postgres import PostgresStore
from syndicate.web.app import create_app
from tests.helpers.partners import pull
from tests.helpers.records import validated_record
from tests.helpers.settings import build_settings
from tests.helpers.stores import StoreFactory
from tests.helpers.tokens import partner_header

ARTICLES = 50
VERSIONS = 100  # 50 x 100 = 5,000 changes in the pulled section
NOISE = 5  # articles in another section, updated as often: must never reach the pull
PAGE_SIZE = 25
DEADLINE_SECONDS = 110.0  # about 15 s on a quiet 2-core machine; under the 120 s test timeout


def _versions(template: dict[str, Any], version: int) -> dict[str, Any]:
    # The template went through validate_record; changing plain-text fields keeps it valid.
    rec = copy.deepcopy(template)
    rec["headline"] = f"{template['headline']} (version {version})"
    rec["summary"] = f"Revision {version}"
    return rec


Group = tuple[list[dict[str, Any]], int]  # templates, records per transaction (1: `put`)


async def _ingest(writer: Store, groups: list[Group], written: list[tuple[str, int]]) -> None:
    """Every version of every template, version by version, group by group."""
    now = datetime.now(UTC)
    for version in range(1, VERSIONS + 1):
        for templates, batch in groups:
            records = [_versions(t, version) for t in templates]
            for start in range(0, len(records), batch):
                chunk = records[start : start + batch]
                if batch == 1:
                    results = [await writer.put(chunk[0], now=now)]
                else:
                    results = await writer.put_many(chunk, now=now)
                for result in results:
                    assert result.outcome == ("created" if version == 1 else "updated")
                    assert result.article.version == version
                    if "global" in result.article.sections:
                        written.append((result.article.id, result.article.version))


@pytest.mark.slow
async def test_cursor_pull_during_a_concurrent_ingest_sees_each_change_once_in_order(
    aiohttp_client: Any,
    store: Store,
    store_factory: StoreFactory,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = build_settings(partner_page_size=PAGE_SIZE)
    client = await aiohttp_client(create_app(small, store=store, run_scheduler=False))
    headers = await partner_header(store, ("global",))
    templates = [
        validated_record(
            f"story-{n:02d}", small, sections=["global", "business"] if n % 7 == 0 else ["global"]
        )
        for n in range(ARTICLES)
    ]
    noise = [validated_record(f"noise-{n}", small, sections=["sport"]) for n in range(NOISE)]
    written: list[tuple[str, int]] = []
    half = ARTICLES // 2
    singles: Group = (templates[:half] + noise, 1)
    batches: Group = (templates[half:], 5)
    if isinstance(store, PostgresStore):
        # Two store instances write at once: single puts and batched puts interleave.
        second = store_factory()
        await second.open()
        ingest = asyncio.gather(
            _ingest(store, [singles], written), _ingest(second, [batches], written)
        )
    else:
        # One SQLiteStore cannot take two writing tasks at once (reported), so one task
        # alternates single puts and batches.
        ingest = asyncio.gather(_ingest(store, [singles, batches], written))

    started = time.monotonic()
    received: list[tuple[str, int]] = []
    pages_during_ingest = 0
    since: str | None = None
    while True:
        assert time.monotonic() - started < DEADLINE_SECONDS, "pulling did not finish"
        ingest_was_done = ingest.done()  # before the pull: a 204 then proves we have it all
        page = await pull(client, "newsml", "global", headers, since)
        if page.status == 200:
            assert len(page.items) <= PAGE_SIZE
            received.extend((p.id, p.version) for p in page.items)
            since = page.cursor
            pages_during_ingest += 0 if ingest_was_done else 1
        elif ingest_was_done:
            break
        else:
            # Caught up with the writers: poll again shortly (not a correctness wait).
            await asyncio.sleep(0.005)
    await ingest  # re-raise anything the writers hit

    assert len(written) == ARTICLES * VERSIONS
    duplicates = [pair for pair, n in Counter(received).items() if n > 1]
    assert duplicates == []
    missing = set(written) - set(received)
    unexpected = set(received) - set(written)
    assert (len(missing), len(unexpected)) == (0, 0), (
        sorted(missing)[:10],
        sorted(unexpected)[:10],
    )
    per_article: dict[str, list[int]] = defaultdict(list)
    for article_id, version in received:
        per_article[article_id].append(version)
    assert set(per_article) == {t["id"] for t in templates}
    for article_id, versions in per_article.items():
        assert versions == list(range(1, VERSIONS + 1)), article_id
    # The pull really ran alongside the writers, not after them.
    assert pages_during_ingest > 0
