"""What every feed renderer shares: the FeedContext, feed URLs, ids, dates and XML framing.

Pure helpers only: no clock, no files, no store. Dates come from the articles themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from syndicate import __version__
from syndicate.core.config import Section, Settings
from syndicate.core.model import Article
from syndicate.core.quickpickle import quick_pickle

# An empty feed has no article to date it by; the Unix epoch keeps its bytes stable.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Categories carry a scheme so a reader can tell a section slug from a free tag.
SECTION_SCHEME = "urn:syndicate:section"


@quick_pickle()
@dataclass(frozen=True, slots=True)
class FeedContext:
    """Site-wide facts a feed needs besides its section and articles."""

    base_url: str
    site_title: str
    websub_hub: str | None = None
    ttl_seconds: int = 300
    generator: str = "Syndicate"
    generator_version: str = __version__
    # Site-relative URL of the XSL that lets a browser show RSS/Atom as a page; None = no PI.
    stylesheet: str | None = "/static/feed.xsl"

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedContext:
        return cls(
            base_url=settings.base_url.rstrip("/"),
            site_title=settings.site_title,
            websub_hub=settings.websub_hub,
            ttl_seconds=settings.regen_interval,
        )

    def feed_url(self, section: str, filename: str) -> str:
        """Where a section's feed is served: `{base_url}/feeds/{section}/{filename}`."""
        return f"{self.base_url}/feeds/{section}/{filename}"

    def home_url(self, section: str) -> str:
        """The section's page for people (the feeds' alternate link): `/sections/{section}`."""
        return f"{self.base_url}/sections/{section}"

    def article_url(self, article_id: str) -> str:
        """The service's own page of an article: `/articles/{id}` (the URL of one without)."""
        return f"{self.base_url}/articles/{article_id}"

    @property
    def ttl_minutes(self) -> int:
        return max(1, self.ttl_seconds // 60)


def article_id(article: Article) -> str:
    """The id an article keeps forever, whatever its URL or version: a URN on its record id."""
    return f"urn:syndicate:article:{article.id}"


# An absolute IRI (RFC 3987): a scheme and a colon, then no whitespace, controls or
# `<>"{}|\^` and backtick, and `%` only as an escape. Atom ids must be IRIs (RFC 4287 4.2.6).
_IRI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:"  # the scheme
    r'(?:[^\s\x00-\x1f\x7f-\x9f<>"{}|\\^`%]|%[0-9A-Fa-f]{2})+\Z'
)


def rss_guid(article: Article) -> tuple[str, bool]:
    """The RSS `guid` and whether it is a permalink: the record's `guid` when it has one.

    A permalink only when it is the canonical URL (readers open a permalink guid as a link).
    """
    if article.guid is None:
        return article_id(article), False
    return article.guid, article.guid == article.canonical_url


def atom_id(article: Article) -> str:
    """The Atom `id`: the record's `guid` when it is an absolute IRI, else our URN.

    A guid that is no IRI (RSS allows any text, e.g. Drupal's "123 at https://…") came from
    an RSS or JSON Feed, whose readers never saw it as an Atom id: the URN loses nobody.
    """
    if article.guid is not None and _IRI.match(article.guid):
        return article.guid
    return article_id(article)


def json_feed_id(article: Article) -> str:
    """The JSON Feed `id`: the record's `guid` when it has one (any string is allowed)."""
    return article.guid if article.guid is not None else article_id(article)


def feed_updated(articles: Iterable[Article]) -> datetime:
    """The newest `modified` among the articles, in UTC; the epoch for an empty feed."""
    newest = max((a.modified for a in articles), default=EPOCH)
    return newest.astimezone(UTC)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc822(value: datetime) -> str:
    """RFC 822 date with a numeric zone, independent of the process locale (RSS).

    What `email.utils.format_datetime` writes (a test holds the two together), without its
    `strftime("%z")` and time tuple: a quarter of an RSS item's cost. An offset that is not
    whole minutes is left to it.
    """
    offset = value.utcoffset()
    if offset is None or offset.seconds % 60 or offset.microseconds:
        return format_datetime(value)
    minutes = offset.days * 1440 + offset.seconds // 60
    hours, rest = divmod(abs(minutes), 60)
    return (
        f"{_DAYS[value.weekday()]}, {value.day:02d} {_MONTHS[value.month - 1]} "
        f"{value.year:04d} {value.hour:02d}:{value.minute:02d}:{value.second:02d} "
        f"{'-' if minutes < 0 else '+'}{hours:02d}{rest:02d}"
    )


def rfc3339(value: datetime) -> str:
    """RFC 3339 with the article's own offset (Atom, JSON Feed)."""
    return value.isoformat()


def categories(article: Article) -> list[tuple[str, str | None]]:
    """(term, scheme) for each section then each tag, without repeats."""
    seen: set[tuple[str, str | None]] = set()
    out: list[tuple[str, str | None]] = []
    for term, scheme in [(s, SECTION_SCHEME) for s in article.sections] + [
        (t, None) for t in article.tags
    ]:
        if (term, scheme) not in seen:
            seen.add((term, scheme))
            out.append((term, scheme))
    return out


def feed_title(ctx: FeedContext, section: Section) -> str:
    return section.title_in(section.language)


def xml_document(body: bytes, ctx: FeedContext) -> bytes:
    """Frame a serialised root element: declaration, optional stylesheet PI, trailing newline."""
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    if ctx.stylesheet:
        href = ctx.stylesheet.replace("&", "&amp;").replace('"', "&quot;")
        head += f'<?xml-stylesheet type="text/xsl" href="{href}"?>\n'.encode()
    return head + body + b"\n"
