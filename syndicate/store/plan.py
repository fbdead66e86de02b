"""The newsroom's write rules, written once: stored rows + incoming records -> what to write.

Pure: no I/O, no driver, no clock (`now` and the next free seq come in). Both stores read the
rows a write needs, ask this module what the write means (outcomes, versions, change-log
entries, the articles rows it leaves) and execute that with their own SQL. The delivery rule
(`syndicate.core.delivery`) reads the change log, so every entry is exactly what partners replay.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syndicate.core.errors import PreconditionFailed
from syndicate.core.model import (
    PUBLISHED,
    WITHDRAWN,
    Article,
    ChangeKind,
    PutResult,
    Status,
    content_hash,
)


@dataclass(frozen=True, slots=True)
class Stored:
    """An article's row as a put reads it (or as an earlier record of the same batch left it)."""

    version: int
    status: Status
    digest: str  # `content_hash` of the current record
    first_created: datetime
    version_created: datetime
    sections: tuple[str, ...]  # the sections of the last put (a withdrawal keeps them)


@dataclass(frozen=True, slots=True)
class Entry:
    """One change-log entry to append: the article as it is at that change.

    `sections` (sorted) are every section the change touches: partners of each of them
    re-read the article's history, so a move out of a section reaches that section's partners.
    """

    seq: int
    kind: ChangeKind
    held: bool
    article: Article
    sections: tuple[str, ...]

    @property
    def record_json(self) -> str:
        # The editor's key order is kept: the record reads back as it was sent.
        return json.dumps(dict(self.article.record), ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """The articles row a put leaves: its newest change-log entry and the content hash.

    The article's section placements follow from it (one per `entry.article.sections`); it
    is held back (`release_pending`) exactly when that entry is held.
    """

    entry: Entry
    digest: str

    def stored(self) -> Stored:
        article = self.entry.article
        assert article.first_created is not None and article.version_created is not None
        return Stored(
            article.version,
            article.status,
            self.digest,
            article.first_created,
            article.version_created,
            article.sections,
        )


@dataclass(slots=True)
class PutPlan:
    """What a batch of puts writes: an outcome per record, entries in seq order, and rows."""

    results: list[PutResult] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    rows: dict[str, ArticleRow] = field(default_factory=dict)  # by id, the batch's last
    replaced: set[str] = field(default_factory=set)  # rows that existed: placements to clear


def record_or_none(text: str | None) -> dict[str, Any] | None:
    """A record as stored (JSON text) as the rules take it; None where a query found none."""
    return None if text is None else dict(json.loads(text))


def newest_per_section(entries: Iterable[Entry]) -> list[tuple[str, int]]:
    """(section, newest seq touching it), by section: the dirty marks regeneration reads."""
    newest: dict[str, int] = {}
    for entry in entries:
        for section in entry.sections:
            newest[section] = max(entry.seq, newest.get(section, entry.seq))
    return sorted(newest.items())


def check_expected(article_id: str, stored: int | None, expected: int) -> None:
    """The If-Match rule: the stored version must be the one the editor last read."""
    if stored != expected:
        raise PreconditionFailed(
            f"article {article_id!r} does not exist"
            if stored is None
            else f"article {article_id!r} is at version {stored}, not {expected}"
        )


def plan_puts(
    records: Sequence[dict[str, Any]],
    stored: Mapping[str, Stored],
    *,
    now: datetime,
    next_seq: int,
    expected_version: int | None = None,
) -> PutPlan:
    """Plan storing `records` (validated, in order) over the `stored` rows of their ids.

    Identical content to a published article is `unchanged` (same version, nothing written);
    anything else is a new version: version + 1, `first_created` carried over, held while
    its release time is after `now`, touching its old sections and its new ones. A record
    later in the batch sees the state an earlier one left. Raises `PreconditionFailed` when
    `expected_version` is set and an article is not at it.
    """
    plan = PutPlan()
    seq = next_seq
    for record in records:
        article_id = str(record["id"])
        # A record later in the batch sees what an earlier one left (made only when asked).
        earlier = plan.rows.get(article_id)
        old = earlier.stored() if earlier is not None else stored.get(article_id)
        if expected_version is not None:
            check_expected(article_id, old.version if old else None, expected_version)
        digest = content_hash(record)
        if old is not None and old.status == PUBLISHED and old.digest == digest:
            unchanged = Article.from_record(
                record,
                version=old.version,
                status=PUBLISHED,
                first_created=old.first_created,
                version_created=old.version_created,
            )
            plan.results.append(PutResult("unchanged", unchanged))
            continue
        article = Article.from_record(
            record,
            version=old.version + 1 if old else 1,
            status=PUBLISHED,
            first_created=old.first_created if old else now,
            version_created=now,
        )
        kind: ChangeKind = "updated" if old else "created"
        touched = {*(old.sections if old else ()), *article.sections}
        entry = Entry(seq, kind, article.release_at > now, article, tuple(sorted(touched)))
        seq += 1
        plan.entries.append(entry)
        row = ArticleRow(entry, digest)
        plan.rows[article_id] = row
        if article_id in stored:
            plan.replaced.add(article_id)
        plan.results.append(PutResult("updated" if old else "created", article))
    return plan


def plan_withdraw(
    current: Article,
    *,
    pending: bool,
    seen: Mapping[str, Any] | None,
    now: datetime,
    seq: int,
) -> Entry | None:
    """The `withdrawn` entry for `current` (its newest change), or None if already withdrawn.

    `pending`: it is held back (embargoed or future-dated, not yet released). `seen`: the
    record of its newest change that was not held, the last version the public saw (None if
    it never saw one). Withdrawing a story the public never saw must not reveal it; one they
    saw, even if a later version is held again, gets its kill notice in every section it was
    in, carrying what they saw, never the held version's text.
    """
    if current.status == WITHDRAWN:
        return None
    held = False
    notice: Mapping[str, Any] = current.record
    sections = set(current.sections)
    if pending:
        held = seen is None
        if seen is not None:
            notice = seen
            sections |= set(seen["sections"])
    withdrawn = Article.from_record(
        notice,
        version=current.version + 1,
        status=WITHDRAWN,
        first_created=current.first_created,
        version_created=now,
    )
    return Entry(seq, "withdrawn", held, withdrawn, tuple(sorted(sections)))


def plan_releases(
    due: Sequence[tuple[Article, Mapping[str, Any] | None]], *, next_seq: int
) -> list[Entry]:
    """A `released` entry for each held article whose time has come, in the order given.

    Each pair is the article at its newest change and `seen` as for `plan_withdraw`: a story
    the public saw elsewhere before a held move is released to those sections' partners too
    (as they would hear of a move without one).
    """
    entries = []
    for offset, (article, seen) in enumerate(due):
        sections = set(article.sections) | set(seen["sections"] if seen is not None else ())
        entries.append(
            Entry(next_seq + offset, "released", False, article, tuple(sorted(sections)))
        )
    return entries
