"""What the partner renderers (NewsML-G2, ninjs) share: context, item identity, time, embargo.

Pure: no store, no files, no clock (callers pass `now`/`sent`). The embargo rules live here
so both formats mark the same items the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from syndicate.core.config import Settings
from syndicate.core.model import PUBLISHED, WITHDRAWN, Article, Change, Notice, PubStatus


class EmbargoLeak(ValueError):
    """A held (embargoed or future-dated) item was about to reach a non-embargo view."""


@dataclass(frozen=True, slots=True)
class PartnerContext:
    """What partner output needs from the configuration (and nothing else)."""

    provider: str  # our domain, e.g. "syndicate.example": the guid namespace and G2 provider
    base_url: str  # public base URL, no trailing slash
    provider_name: str = ""  # human-readable name for the provider; defaults to `provider`

    @classmethod
    def from_settings(cls, settings: Settings) -> PartnerContext:
        return cls(
            provider=settings.provider,
            base_url=settings.base_url.rstrip("/"),
            provider_name=settings.site_title,
        )

    @property
    def display_name(self) -> str:
        return self.provider_name or self.provider

    @property
    def next_cursor_rel(self) -> str:
        """The concept URI that says "this value is the cursor for the next pull"."""
        return f"{self.base_url}/partners/concepts/next-cursor"


def item_guid(ctx: PartnerContext, article: Article) -> str:
    """The item's identity across all its versions (NewsML-G2 `guid`, ninjs `uri`).

    Article ids are `[A-Za-z0-9._-]`, all valid in a URN; the version is never part of it.
    """
    return f"urn:newsml:{ctx.provider}:{article.id}"


def iso_time(value: datetime) -> str:
    """RFC 3339 / xs:dateTime with an explicit offset; a naive datetime is a bug upstream."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing to render a datetime without an offset: {value!r}")
    return value.isoformat()


def version_created(article: Article) -> datetime:
    """When this version was stored; falls back to the newsroom's own times for raw articles."""
    return article.version_created or article.modified


def first_created(article: Article) -> datetime:
    return article.first_created or article.published


def is_held(article: Article, now: datetime | None) -> bool:
    """Still embargoed or future-dated at `now` (unknown without `now`: treated as released)."""
    return now is not None and article.status == PUBLISHED and article.release_at > now


def embargo_time(article: Article, *, held: bool) -> datetime | None:
    """The `embargoed` time to show, or None.

    Shown whenever the record has `embargo_until` (after release it is informative: a past
    time means "free to use"), and for a held future-dated article (its `published` time).
    It is the release moment, the later of `published` and `embargo_until`.
    """
    if article.embargo_until is not None or held:
        return article.release_at
    return None


def pub_status(article: Article) -> PubStatus:
    """The status of a bare article or change: canceled once withdrawn, else usable."""
    return "canceled" if article.status == WITHDRAWN else "usable"


def partner_items(
    items: Iterable[Article | Change | Notice], *, embargoed_view: bool, now: datetime | None
) -> Iterator[tuple[Article, bool, PubStatus]]:
    """(article, held, pubstatus) for each item; `EmbargoLeak` if a held one reaches a plain view.

    A `Notice` is what the delivery rule decided (`syndicate.core.delivery`): taken as it is.
    A `Change` is held when the change log says so: the log is the authority, because the
    `released` change is written by whichever process runs the timer, by its clock. Judging
    it again by this process's clock would turn a few seconds of clock skew into a failed
    pull (or a release shown as still embargoed). A bare `Article` is judged at `now`.
    """
    for item in items:
        if isinstance(item, Notice):
            article, held, status = item.article, item.held, item.pubstatus
        elif isinstance(item, Change):
            article = item.article
            held = item.held and article.status == PUBLISHED
            status = pub_status(article)
        else:
            article = item
            held = is_held(article, now)
            status = pub_status(article)
        if held and not embargoed_view:
            raise EmbargoLeak(f"article {article.id!r} is held back; this partner may not see it")
        yield article, held, status
