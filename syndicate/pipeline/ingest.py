"""Ingest: turn files or request bodies (JSON object, JSON array, NDJSON) into stored records.

Each record is validated on its own; valid ones are stored in batches even when others are
rejected, and every record gets a result naming its line (or position) and its errors.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from syndicate.core.clock import Clock, utc_now
from syndicate.core.config import Settings
from syndicate.core.errors import FieldError
from syndicate.store.base import Store
from syndicate.validate import check_record

Outcome = Literal["created", "updated", "unchanged", "rejected", "valid"]
BATCH = 500
# json.loads recurses per nesting level: "[[[[..." a few KB long exhausts the stack.
TOO_DEEP = "malformed JSON: nested too deeply"


@dataclass(slots=True)
class RecordResult:
    """What happened to one submitted record; `line` is 1-based (position in an array)."""

    line: int
    id: str | None
    outcome: Outcome
    errors: list[FieldError] = field(default_factory=list)
    version: int | None = None
    source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "id": self.id, "outcome": self.outcome}
        if self.version is not None:
            out["version"] = self.version
        if self.errors:
            out["errors"] = [e.as_dict() for e in self.errors]
        if self.source is not None:
            out["source"] = self.source
        return out


@dataclass(slots=True)
class Parsed:
    """One record as read from input, or the reason it could not be read."""

    line: int
    value: Any = None
    error: str | None = None


# Sanitising a large body takes html5ever up to about 20 ms within validate's bounds; nh3
# releases the GIL meanwhile, so in a thread it leaves the event loop answering.
OFF_LOOP_BODY_CHARS = 64 * 1024
# Validation runs on the event loop between records: give it back at least this often.
YIELD_EVERY_S = 0.02


async def check_record_async(
    raw: Any, settings: Settings
) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """`check_record`, in a worker thread when the body is large enough to hold the loop."""
    body = raw.get("body_html") if isinstance(raw, dict) else None
    if isinstance(body, str) and len(body) > OFF_LOOP_BODY_CHARS:
        return await asyncio.to_thread(check_record, raw, settings)
    return check_record(raw, settings)


def parse_records(text: str) -> Iterator[Parsed]:
    """JSON object, JSON array, or NDJSON (one object per line; blank lines skipped)."""
    stripped = text.lstrip()
    if not stripped:
        return
    if stripped[0] == "[":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Parsed(exc.lineno, error=f"malformed JSON: {exc.msg}")
            return
        except RecursionError:
            yield Parsed(1, error=TOO_DEEP)
            return
        for index, value in enumerate(values, start=1):
            yield Parsed(index, value)
        return
    if stripped[0] == "{":
        # A single (possibly pretty-printed) object, or NDJSON: try the whole text first.
        try:
            yield Parsed(1, json.loads(text))
            return
        except json.JSONDecodeError as exc:
            if not _looks_like_ndjson(text):
                # One broken pretty-printed object is one bad record, not one per line.
                yield Parsed(exc.lineno, error=f"malformed JSON: {exc.msg} (column {exc.colno})")
                return
        except RecursionError:
            pass
    yield from parse_ndjson(text)


def _looks_like_ndjson(text: str) -> bool:
    """Whether some line of `text` is a JSON object on its own.

    A pretty-printed object's lines hold a brace or a `"key": value` pair, so it has none
    (unless an array in it puts one-line objects on lines of their own: then NDJSON it is).
    """
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("{") or not stripped.endswith("}"):
            continue
        try:
            if isinstance(json.loads(stripped), dict):
                return True
        except (json.JSONDecodeError, RecursionError):
            continue
    return False


def parse_ndjson(text: str) -> Iterator[Parsed]:
    """NDJSON strictly: one JSON value per line, numbered from 1; blank lines skipped."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield Parsed(number, json.loads(line))
        except json.JSONDecodeError as exc:
            yield Parsed(number, error=f"malformed JSON: {exc.msg} (column {exc.colno})")
        except RecursionError:
            yield Parsed(number, error=TOO_DEEP)


def _record_id(value: Any) -> str | None:
    if isinstance(value, dict):
        found = value.get("id")
        if isinstance(found, str):
            # A lone surrogate ("\ud800" decodes to one) cannot be written as UTF-8: the
            # result that names the line would turn the whole answer into a 500.
            return found.encode("utf-8", "backslashreplace").decode("utf-8")
    return None


async def ingest(
    records: Iterable[Parsed],
    settings: Settings,
    store: Store | None,
    *,
    source: str | None = None,
    on_result: Callable[[RecordResult], None] | None = None,
    clock: Clock = utc_now,
) -> list[RecordResult]:
    """Validate every record and store the valid ones (`store=None`: validate only)."""
    results: list[RecordResult] = []
    batch: list[tuple[RecordResult, dict[str, Any]]] = []
    # One batch is stored while the next is validated: the store works in its own thread
    # (or server), so on two cores validation and storage overlap.
    storing: asyncio.Task[None] | None = None
    # Results wait here until every earlier record is stored, so `on_result` sees them in
    # input order (a rejected line 2 is not reported before the stored line 1).
    unreported: list[RecordResult] = []

    def report(items: list[RecordResult]) -> None:
        if on_result:
            for result in items:
                on_result(result)

    async def store_batch(
        items: list[tuple[RecordResult, dict[str, Any]]], then_report: list[RecordResult]
    ) -> None:
        assert store is not None
        stored = await store.put_many([record for _, record in items], now=clock())
        for (result, _), put in zip(items, stored, strict=True):
            result.outcome = put.outcome
            result.version = put.article.version
        report(then_report)

    async def flush() -> None:
        nonlocal storing, batch, unreported
        if storing is not None:
            await storing
            storing = None
        if batch:
            storing = asyncio.ensure_future(store_batch(batch, unreported))
            batch, unreported = [], []

    yielded = time.monotonic()
    try:
        for count, parsed in enumerate(records, start=1):
            if time.monotonic() - yielded > YIELD_EVERY_S:
                await asyncio.sleep(0)
                yielded = time.monotonic()
            result = RecordResult(parsed.line, _record_id(parsed.value), "rejected", source=source)
            results.append(result)
            unreported.append(result)
            if parsed.error is not None:
                result.errors = [FieldError("", parsed.error)]
            else:
                record, errors = await check_record_async(parsed.value, settings)
                if record is None:
                    result.errors = errors
                elif store is None:
                    result.outcome = "valid"
                else:
                    batch.append((result, record))
                    if len(batch) >= BATCH:
                        await flush()
                    elif storing is not None and count % 32 == 0:
                        await asyncio.sleep(0)  # let the storing batch take its next step
                    continue
            if not batch and storing is None:
                report(unreported)
                unreported = []
        await flush()
        if storing is not None:
            await storing
        report(unreported)
    finally:
        if storing is not None and not storing.done():
            storing.cancel()
    return results


def summarise(results: Iterable[RecordResult]) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0, "valid": 0}
    for result in results:
        counts[result.outcome] += 1
    return counts
