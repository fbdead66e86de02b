"""One item of an imported feed (RSS, Atom, JSON Feed or WordPress export), in the record's
terms, before it has an id or a section: what every feed reader fills in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syndicate.importing.fields import MAX_TITLE_CHARS


@dataclass(slots=True)
class FeedEntry:
    """An item as read; `skipped` says why it is not an article (a draft, a page)."""

    position: int  # 1-based, in the file
    guid: str | None = None
    headline: str | None = None
    link: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    summary: str | None = None
    body_html: str = ""
    authors: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    image: dict[str, Any] | None = None
    related: list[dict[str, str]] = field(default_factory=list)
    language: str | None = None  # as the feed declares it
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None

    def key(self) -> str:
        """What identifies the item for good: its guid, else its link, else its title and date."""
        if self.guid:
            return "guid:" + self.guid
        if self.link:
            return "link:" + self.link
        when = self.published.isoformat() if self.published else ""
        return f"title:{self.headline or ''}@{when}"

    def problem(self) -> str | None:
        """Why the item cannot become an article, or None."""
        if not self.headline:
            return "the item has no title"
        if len(self.headline) > MAX_TITLE_CHARS:
            return f"the title is {len(self.headline)} characters long, at most {MAX_TITLE_CHARS}"
        return None


@dataclass(slots=True)
class FeedFile:
    """A whole feed as read: its format and language, and its items (read lazily)."""

    format: str  # "RSS 2.0", "Atom 1.0", "JSON Feed 1.1", "WordPress export (WXR)"
    language: str | None
    entries: list[FeedEntry]
