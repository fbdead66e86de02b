"""Feed documents other than a section's plain current feed: the RFC 5005 archive links of a
section feed and its archive pages, and tag and author feeds. Pure: what the renderers need.

A `FeedSection` is a `Section` that knows where its document lives and how it links onwards.
It reaches the renderers as their `section` argument, so its links are part of what the
fragment cache keys on (`repr(section)`): a new `prev-archive` target re-renders the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from syndicate.core.config import Section
from syndicate.core.quickpickle import quick_pickle
from syndicate.render.context import ATOM_NS, FeedContext

# RFC 5005's namespace (`fh:archive` marks an archive document).
FH_NS = "http://purl.org/syndication/history/1.0"


@quick_pickle()
@dataclass(frozen=True, slots=True)
class ArchiveLinks:
    """The RFC 5005 links of one document. Archive pages are numbered from 1, oldest first."""

    page: int | None = None  # this document is archive page `page`; None: the current feed
    prev: int | None = None  # `prev-archive`: the page before it (older)
    next: int | None = None  # `next-archive`: the page after it (newer); archive pages only


@quick_pickle()
@dataclass(frozen=True, slots=True)
class FeedSection(Section):
    """A section as one feed document sees it.

    `path` is the folder under `/feeds/` (already percent-encoded; "" is the slug), `home` the
    human page it links as alternate (None: the section's), `hub` whether it advertises the
    WebSub hub (only feeds the hub is told about do), `archive` its RFC 5005 links.
    """

    path: str = ""
    home: str | None = None
    hub: bool = True
    archive: ArchiveLinks | None = None


def _path(section: Section) -> str:
    return (section.path if isinstance(section, FeedSection) else "") or section.slug


def archive_links(section: Section) -> ArchiveLinks | None:
    return section.archive if isinstance(section, FeedSection) else None


def is_archive(section: Section) -> bool:
    """Whether the document is an archive page (RFC 5005 `fh:archive`)."""
    links = archive_links(section)
    return links is not None and links.page is not None


def current_url(ctx: FeedContext, section: Section, filename: str) -> str:
    """The feed readers subscribe to: `{base}/feeds/{path}/{filename}`."""
    return ctx.feed_url(_path(section), filename)


def archive_url(ctx: FeedContext, section: Section, page: int, filename: str) -> str:
    """Archive page `page` of the feed: `{base}/feeds/{path}/archive/{page}/{filename}`."""
    return f"{ctx.base_url}/feeds/{_path(section)}/archive/{page}/{filename}"


def self_url(ctx: FeedContext, section: Section, filename: str) -> str:
    """Where this document is served: its archive page, or the current feed."""
    links = archive_links(section)
    if links is not None and links.page is not None:
        return archive_url(ctx, section, links.page, filename)
    return current_url(ctx, section, filename)


def home_url(ctx: FeedContext, section: Section) -> str:
    home = section.home if isinstance(section, FeedSection) else None
    return home or ctx.home_url(section.slug)


def hub_url(ctx: FeedContext, section: Section) -> str | None:
    """The WebSub hub to advertise: only on current section feeds, which the hub is told of."""
    if isinstance(section, FeedSection) and (not section.hub or is_archive(section)):
        return None
    return ctx.websub_hub


def archive_link_attrs(
    ctx: FeedContext, section: Section, filename: str, media_type: str
) -> list[dict[str, str]]:
    """`current`, `prev-archive` and `next-archive` links, as attributes, in that order."""
    links = archive_links(section)
    if links is None:
        return []
    out = []
    if links.page is not None:
        out.append({"rel": "current", "href": current_url(ctx, section, filename)})
    if links.prev is not None:
        out.append({"rel": "prev-archive", "href": archive_url(ctx, section, links.prev, filename)})
    if links.page is not None and links.next is not None:
        out.append({"rel": "next-archive", "href": archive_url(ctx, section, links.next, filename)})
    return [{**attrs, "type": media_type} for attrs in out]


def append_archive_links(
    parent: Any, ctx: FeedContext, section: Section, filename: str, media_type: str, *, tag: str
) -> None:
    """Write the RFC 5005 links (as `tag` elements) and, on a page, `fh:archive` into `parent`."""
    for attrs in archive_link_attrs(ctx, section, filename, media_type):
        etree.SubElement(parent, tag, attrs)
    if is_archive(section):
        etree.SubElement(parent, f"{{{FH_NS}}}archive")


ATOM_LINK = f"{{{ATOM_NS}}}link"
