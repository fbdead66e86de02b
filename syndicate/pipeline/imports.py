"""The one import path the CLI and the editor API share: extract (`syndicate.importing`), make
records (stable ids, sections, language, times), link teasers to stored articles, then
validate and store through `syndicate.pipeline.ingest`, so imports get its outcomes and batching.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from syndicate.core.config import Settings
from syndicate.core.errors import FieldError
from syndicate.importing import language
from syndicate.importing.blocks import Dropped
from syndicate.importing.entry import FeedEntry, FeedFile
from syndicate.importing.fields import rfc3339, stable_id, text_of
from syndicate.importing.page import PageExtract, PageKind, extract_page
from syndicate.pipeline.ingest import BATCH, Parsed, RecordResult, ingest
from syndicate.store.base import Store

ImportOutcome = Literal["created", "updated", "unchanged", "rejected", "valid", "skipped"]


@dataclass(frozen=True, slots=True)
class PageOptions:
    """What the editor says about a page, beyond what the page carries (no sections: the
    declared ones the page itself names, as in its section strip)."""

    sections: tuple[str, ...] = ()
    language: str | None = None
    url: str | None = None
    published: datetime | None = None


@dataclass(slots=True)
class ImportResult:
    """What happened to one page or feed item: the record made, its outcome, and why."""

    source: str
    position: int
    outcome: ImportOutcome
    id: str | None = None
    record: dict[str, Any] | None = None
    errors: list[FieldError] = field(default_factory=list)
    version: int | None = None
    dropped: list[Dropped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    section_hints: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "position": self.position}
        out["id"], out["outcome"] = self.id, self.outcome
        if self.version is not None:
            out["version"] = self.version
        if self.errors:
            out["errors"] = [e.as_dict() for e in self.errors]
        out["record"] = self.record
        out["dropped"] = [{"text": d.text, "reason": d.reason} for d in self.dropped]
        out["notes"] = self.notes
        if self.section_hints:
            out["section_hints"] = self.section_hints
        return out


def section_names(settings: Settings) -> list[tuple[str, list[str]]]:
    """(slug, every name it goes by) for each declared section: what a page may call it."""
    return [
        (s.slug, [s.slug, s.slug.replace("-", " "), *s.title.values()]) for s in settings.sections
    ]


def _now_text(now: datetime) -> str:
    return rfc3339(now.astimezone(UTC))


async def _stored_published(store: Store | None, article_id: str) -> str | None:
    """A stored article's `published`: a page or item without a date keeps its first import's."""
    if store is None:
        return None
    stored = await store.get(article_id)
    return None if stored is None else str(stored.record["published"])


async def import_page(
    source: str,
    text: str,
    kind: PageKind,
    settings: Settings,
    store: Store | None,
    options: PageOptions,
    *,
    now: datetime,
) -> ImportResult:
    """Extract one page and store it (`store=None`: a dry run, nothing stored)."""
    page = extract_page(text, kind, section_names(settings))
    result = ImportResult(source, 1, "rejected", dropped=page.dropped, notes=list(page.notes))
    result.section_hints = page.section_hints
    if (problem := page.problem()) is not None:
        path = "/body_html" if "body" in problem else "/headline"
        result.errors = [FieldError(path, problem)]
        return result
    assert page.headline is not None
    sections = list(dict.fromkeys(options.sections)) or page.section_hints
    if not sections:
        message = "no section given, and the page names none that is declared"
        result.errors = [FieldError("/sections", message)]
        return result
    canonical = options.url or page.canonical_url
    key = canonical or f"{sections[0]}\n{page.headline}"
    article_id = stable_id("page", key, canonical)
    result.id = article_id
    section = settings.section(sections[0])
    fallback = section.language if section is not None else "en"
    lang, how = language.choose(options.language, page.declared_language, page.text, fallback)
    result.notes.append(f"language: {lang} ({how})")
    published = options.published or page.published
    record = _page_record(page, article_id, sections, lang, settings)
    record["canonical_url"] = canonical or f"{settings.base_url.rstrip('/')}/articles/{article_id}"
    if published is not None:
        record["published"] = rfc3339(published)
    else:
        record["published"] = await _stored_published(store, article_id) or _now_text(now)
        result.notes.append("published: not on the page; the time of the first import")
    if page.updated is not None and published is not None and page.updated > published:
        record["updated"] = rfc3339(page.updated)
    record["related"] = await _related(page, store, now, result.notes)
    if not record["related"]:
        del record["related"]
    result.record = record
    await _store([(result, record)], settings, store, now)
    return result


def _page_record(
    page: PageExtract, article_id: str, sections: list[str], lang: str, settings: Settings
) -> dict[str, Any]:
    record: dict[str, Any] = {"id": article_id, "headline": page.headline}
    if page.summary:
        record["summary"] = page.summary
    record.update(body_html=page.body_html, language=lang, sections=sections)
    if page.authors:
        record["authors"] = page.authors
    if page.image:
        record["image"] = page.image
    if page.tags:
        record["tags"] = page.tags
    return record


async def _related(
    page: PageExtract, store: Store | None, now: datetime, notes: list[str]
) -> list[dict[str, str]]:
    """Teasers as related items: the page's link, else a stored article's, else the title."""
    unlinked = [t.title for t in page.teasers if t.url is None]
    found: dict[str, str] = {}
    if unlinked and store is not None:
        found = await store.public_urls_by_headline(unlinked, now=now)
    elif unlinked:
        notes.append("related: not matched against stored headlines in a dry run")
    out: list[dict[str, str]] = []
    for teaser in page.teasers:
        url = teaser.url or found.get(teaser.title)
        item = {"title": teaser.title[:300]}
        if url:
            item["url"] = url
        if item not in out:
            out.append(item)
    return out[:50]


async def _store(
    pending: Sequence[tuple[ImportResult, dict[str, Any]]],
    settings: Settings,
    store: Store | None,
    now: datetime,
) -> None:
    """Validate and store through ingest; each result takes its outcome, version and errors."""
    by_line = {n: result for n, (result, _) in enumerate(pending, start=1)}

    def done(outcome: RecordResult) -> None:
        result = by_line[outcome.line]
        result.outcome = outcome.outcome
        result.version = outcome.version
        result.errors = outcome.errors

    parsed = [Parsed(n, record) for n, (_, record) in enumerate(pending, start=1)]
    await ingest(parsed, settings, store, on_result=done, clock=lambda: now)


async def import_feed(
    source: str,
    feed: FeedFile,
    settings: Settings,
    store: Store | None,
    section: str,
    *,
    now: datetime,
    on_result: Callable[[ImportResult], None] | None = None,
) -> list[ImportResult]:
    """Store every item of a feed in `section`, keeping each item's guid."""
    results: list[ImportResult] = []
    declared = settings.section(section)
    fallback = declared.language if declared is not None else "en"
    for chunk in _chunks(feed.entries, BATCH):
        pending: list[tuple[ImportResult, dict[str, Any]]] = []
        for entry in chunk:
            result = ImportResult(source, entry.position, "rejected", notes=list(entry.notes))
            results.append(result)
            if entry.skipped is not None:
                result.outcome = "skipped"
                result.notes.append(f"skipped: {entry.skipped}")
            elif (problem := entry.problem()) is not None:
                result.errors = [FieldError("/headline", problem)]
            else:
                record, notes = await _item_record(
                    entry, feed, settings, store, section, fallback, now
                )
                result.id, result.record = record["id"], record
                result.notes += notes
                pending.append((result, record))
        await _store(pending, settings, store, now)
        if on_result is not None:
            for result in results[-len(chunk) :]:
                on_result(result)
    return results


def _chunks(items: Sequence[FeedEntry], size: int) -> Iterable[Sequence[FeedEntry]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _item_record(
    entry: FeedEntry,
    feed: FeedFile,
    settings: Settings,
    store: Store | None,
    section: str,
    fallback: str,
    now: datetime,
) -> tuple[dict[str, Any], list[str]]:
    readable = entry.guid if entry.guid and entry.guid.startswith("http") else None
    article_id = stable_id("item", entry.key(), readable)
    text = " ".join([entry.headline or "", entry.summary or "", entry.body_html])
    declared = entry.language or feed.language
    lang, how = language.choose(None, declared, text_of(text), fallback)
    notes = [f"language: {lang} ({how})"]
    record: dict[str, Any] = {"id": article_id, "headline": entry.headline}
    if entry.guid:
        record["guid"] = entry.guid
    if entry.summary:
        record["summary"] = entry.summary
    record.update(body_html=entry.body_html, language=lang, sections=[section])
    for name in ("authors", "tags", "image", "related"):
        if value := getattr(entry, name):
            record[name] = value
    if entry.published is not None:
        record["published"] = rfc3339(entry.published)
    else:
        record["published"] = await _stored_published(store, article_id) or _now_text(now)
        notes.append("published: the item has no date; the time of the first import")
    if entry.updated is not None:
        record["updated"] = rfc3339(entry.updated)
    base = settings.base_url.rstrip("/")
    record["canonical_url"] = entry.link or f"{base}/articles/{article_id}"
    return record, notes


def summarise(results: Iterable[ImportResult]) -> dict[str, int]:
    counts = {k: 0 for k in ("created", "updated", "unchanged", "rejected", "valid", "skipped")}
    for result in results:
        counts[result.outcome] += 1
    return counts
