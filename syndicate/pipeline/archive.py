"""RFC 5005 archives of the section feeds: which page a current feed links, how each page links.

Pages are cut by each section's archive sequence (see `store/reach_index.py`): page `p` holds
positions `(p-1)*50+1 … p*50`, oldest page first. A page is full once a later position exists;
from then on its links (`prev-archive`, `next-archive`, `current`) and its entries are fixed.
The newest page may be open (still filling) and an empty next page is served once the page
before it is full, so a full page can name its `next-archive` from the start.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import fields, replace
from typing import Any

from syndicate.core.config import Section
from syndicate.render.documents import ArchiveLinks, FeedSection
from syndicate.store.base import Store
from syndicate.store.reach_index import PAGE_SIZE, pages

log = logging.getLogger(__name__)

__all__ = ["PAGE_SIZE", "as_feed_section", "is_full", "linked", "page_section", "served_pages"]


def as_feed_section(section: Section, **changes: Any) -> FeedSection:
    """`section` as a FeedSection with `changes` (a FeedSection stays one)."""
    if isinstance(section, FeedSection):
        return replace(section, **changes)
    base = {f.name: getattr(section, f.name) for f in fields(Section)}
    return FeedSection(**{**base, **changes})


def served_pages(count: int) -> int:
    """The pages a section with `count` positions serves: every page, plus the empty next one
    after a full last page (its predecessor already links it)."""
    return count // PAGE_SIZE + 1 if count else 0


def is_full(page: int, count: int) -> bool:
    return count >= page * PAGE_SIZE


def page_section(section: Section, page: int, count: int) -> FeedSection:
    """The section as archive page `page` sees it: its links, all of a page's stories (limits
    of the current feed do not cut an archive page, or the walk would lose stories)."""
    full = is_full(page, count)
    links = ArchiveLinks(page=page, prev=page - 1 or None, next=page + 1 if full else None)
    return as_feed_section(
        section,
        archive=links,
        limit=PAGE_SIZE,
        # An item too large alone still goes out in summary form; the page as a whole is not
        # trimmed to the current feed's budget, which would drop its oldest stories.
        max_bytes=section.max_bytes * PAGE_SIZE,
    )


async def linked(
    store: Store, section: Section, *, index: Callable[[], Awaitable[int]] | None = None
) -> Section:
    """The current feed of `section`, linked to its newest archive page (`prev-archive`).

    Indexes the changes first (`index`, by default the store's), so the link covers
    everything the feed shows. If indexing fails the feed still goes out, linked as far as
    the index goes.
    """
    try:
        await (index or store.index_changes)()
    except Exception:
        log.exception("archive: cannot index changes; linking %s as far as indexed", section.slug)
    count = await store.archive_count(section.slug)
    if not count:
        return section
    return as_feed_section(section, archive=ArchiveLinks(prev=pages(count)))
