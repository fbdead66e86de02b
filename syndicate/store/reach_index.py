"""The readers' indexes, planned once for both stores: tags and authors of each article, and each
section's archive sequence (RFC 5005 pages). Pure: the store mixins read and write the rows.

The indexes follow the change log with a cursor, so the write paths of the stores stay as they
are: `index_changes` reads the changes past the cursor, plans here, and writes in one
transaction. Index rows are candidates only: every query joins the article's current row and
keeps what is public *now*, so an index a moment behind can leave a story out for that moment,
never show a held or withdrawn one.

The archive sequence: a story gets a position in each of its sections (and in `all`) the first
time a public version of it is in that section; positions never change. Page `p` holds
positions `(p - 1) * PAGE_SIZE + 1 … p * PAGE_SIZE`, so a page is full once the section has a
position past it, and its members never change after that. Each entry shows one version
(`seq`, a change): while its page is open, the newest public version; once the page is full,
the version it had then. A withdrawal clears it (`None`: the story leaves every page at once);
the next public version after that is shown again, full page or not.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syndicate.core.config import ALL_SECTION
from syndicate.core.model import Article
from syndicate.core.taxonomy import author_slug, tag_key

# Stories per archive page. Fixed for good: another size would re-cut every page.
PAGE_SIZE = 50
# Changes read per transaction: a bulk import is indexed in steps, not one long lock.
BATCH = 5000
TAG = "tag"
AUTHOR = "author"


class KeyedFeeds:
    """`by_tag` and `by_author` for both stores' reach mixins: each asks the store's `_keyed`
    for the public articles indexed under one key of that kind."""

    async def _keyed(self, kind: str, term: str, limit: int, now: datetime) -> list[Article]:
        raise NotImplementedError

    async def by_tag(self, tag: str, limit: int, *, now: datetime) -> list[Article]:
        return await self._keyed(TAG, tag, limit, now)

    async def by_author(self, slug: str, limit: int, *, now: datetime) -> list[Article]:
        return await self._keyed(AUTHOR, slug, limit, now)


@dataclass(frozen=True, slots=True)
class IndexedChange:
    """One change as the indexes see it (`public`: a version the public may see)."""

    seq: int
    article_id: str
    public: bool
    withdrawn: bool
    sections: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReachChange:
    """What one change touched, for the on-demand caches: the article, its tag keys, its
    author slugs and its sections (of the version written at that change)."""

    seq: int
    article_id: str
    tags: tuple[str, ...]
    authors: tuple[str, ...]
    sections: tuple[str, ...]


@dataclass(slots=True)
class ArchivePlan:
    """Archive rows to write: `shown` sets an existing entry's version (None: withdrawn),
    `added` are new positions (section, position, article id, seq)."""

    shown: dict[tuple[str, str], int | None] = field(default_factory=dict)
    added: list[tuple[str, int, str, int]] = field(default_factory=list)


def json_list(value: Any) -> list[Any]:
    """A JSON array as the database handed it (text, or already decoded); [] when absent."""
    if value is None:
        return []
    found = json.loads(value) if isinstance(value, str | bytes) else value
    return found if isinstance(found, list) else []


def tag_keys(tags: Any) -> tuple[str, ...]:
    keys = (tag_key(t) for t in json_list(tags) if isinstance(t, str))
    return tuple(dict.fromkeys(k for k in keys if k))


def author_slugs(authors: Any) -> tuple[str, ...]:
    slugs = (
        author_slug(a["name"])
        for a in json_list(authors)
        if isinstance(a, dict) and isinstance(a.get("name"), str)
    )
    return tuple(dict.fromkeys(s for s in slugs if s))


def key_rows(article_id: str, tags: Any, authors: Any) -> list[tuple[str, str, str]]:
    """(kind, key, article id) of an article's current tags and authors."""
    return [(TAG, k, article_id) for k in tag_keys(tags)] + [
        (AUTHOR, s, article_id) for s in author_slugs(authors)
    ]


def sealed(count: int) -> int:
    """The last position on a full page, for a section with `count` positions."""
    return count // PAGE_SIZE * PAGE_SIZE


def pages(count: int) -> int:
    """How many archive pages a section with `count` positions has (the last may be open)."""
    return -(-count // PAGE_SIZE)


def page_range(page: int) -> tuple[int, int]:
    """The first and last position of page `page` (from 1)."""
    return (page - 1) * PAGE_SIZE + 1, page * PAGE_SIZE


def plan_archive(
    changes: Sequence[IndexedChange],
    existing: Mapping[tuple[str, str], tuple[int, int | None]],
    counts: Mapping[str, int],
    order: Mapping[str, Any],
) -> ArchivePlan:
    """What `changes` (oldest first) do to the archive sequence.

    `existing`: (section, article id) -> (position, seq shown) for the articles concerned;
    `counts`: positions per section so far; `order`: article id -> sort key of the stories
    entering the archive in this batch (their publication time, then id), so one bulk import
    is archived in the order the stories were published, not the order they were sent in.
    """
    plan = ArchivePlan()
    entering: dict[tuple[str, str], int] = {}
    for change in changes:
        if change.withdrawn:
            for key in [k for k in (*existing, *entering) if k[1] == change.article_id]:
                if key in entering:
                    del entering[key]
                else:
                    plan.shown[key] = None
            continue
        if not change.public:
            continue
        for section in dict.fromkeys((*change.sections, ALL_SECTION)):
            key = (section, change.article_id)
            if key in existing:
                position, seq = existing[key]
                shown = plan.shown.get(key, seq)
                # An open page follows the story; a full one keeps what it had, unless the
                # story was withdrawn since (its text is gone: the new version is shown).
                if position > sealed(counts.get(section, 0)) or shown is None:
                    plan.shown[key] = change.seq
            else:
                entering[key] = change.seq
    by_section: dict[str, list[tuple[str, int]]] = {}
    for (section, article_id), seq in entering.items():
        by_section.setdefault(section, []).append((article_id, seq))
    for section, members in sorted(by_section.items()):
        members.sort(key=lambda m: (order[m[0]], m[0]))
        start = counts.get(section, 0)
        plan.added += [(section, start + n, a, s) for n, (a, s) in enumerate(members, start=1)]
    return plan


def sections_of(changes: Iterable[IndexedChange]) -> set[str]:
    """Every archive sequence the changes may touch (their sections and `all`)."""
    return {s for c in changes for s in c.sections} | {ALL_SECTION}
