"""The `Store` protocol every database backend implements, and the SQL they share in spirit.

Times are passed in (`now`), never read from the clock inside a query, so tests and the
scheduler agree on what "released" means.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from syndicate.core.model import (
    Article,
    ArticleState,
    Change,
    DeskSession,
    Destination,
    FeedDocument,
    PutResult,
    Role,
    StoredArticle,
    Token,
)
from syndicate.store.reach_index import ReachChange


class Store(Protocol):
    """Validated articles, their change log, partner/editor tokens and generation state."""

    async def open(self) -> None:
        """Connect and apply pending migrations (append-only, numbered)."""

    async def close(self) -> None: ...

    # -- articles -------------------------------------------------------------
    async def put(
        self, record: dict[str, Any], *, expected_version: int | None = None, now: datetime
    ) -> PutResult:
        """Create or replace by id. Identical content -> `unchanged`, same version.

        `record` must already be validated and sanitised. With `expected_version` set and
        different from the stored version, raise `PreconditionFailed`. A withdrawn article
        that is put again is published again (a new version).
        """

    async def put_many(
        self, records: Sequence[dict[str, Any]], *, now: datetime
    ) -> list[PutResult]:
        """Store many validated records in one transaction (bulk ingest)."""

    async def get(self, article_id: str) -> Article | None: ...

    async def withdraw(self, article_id: str, *, now: datetime) -> Article:
        """Mark withdrawn (the record stays); raises `NotFound`. Idempotent."""

    async def latest(self, section: str | None, limit: int, *, now: datetime) -> list[Article]:
        """Newest first by `published`, leaving out withdrawn, embargoed and future articles.

        `section=None` is every section. Cost is independent of the store's size (indexed).
        """

    async def latest_stored(
        self, section: str | None, limit: int, *, now: datetime
    ) -> list[StoredArticle]:
        """`latest`, not yet decoded: for a render worker to decode (see `StoredArticle`)."""

    async def count(self, section: str | None, *, now: datetime) -> int:
        """How many public articles a section has (for status)."""

    async def totals(self) -> dict[str, int]:
        """How many articles are `published` (public), `held` (embargoed or future-dated,
        not yet released) and `withdrawn`: the store's size at a glance, for status."""

    # -- change log (partners) ------------------------------------------------
    async def changes_since(
        self, section: str, after_seq: int, limit: int, *, include_held: bool
    ) -> list[Change]:
        """Changes touching `section` with seq > `after_seq`, oldest first, at most `limit`."""

    async def histories(
        self, article_ids: Sequence[str], up_to_seq: int
    ) -> dict[str, list[Change]]:
        """Each article's changes with seq <= `up_to_seq`, oldest first (for the delivery rule)."""

    async def max_seq(self) -> int:
        """The newest change's seq (0 for an empty store)."""

    async def release_due(self, *, now: datetime) -> list[Article]:
        """Write a `released` change for each held article whose release time has come.

        Exactly once per release, even with several processes; returns the released articles.
        """

    async def pending_releases(self) -> list[tuple[str, datetime, tuple[str, ...]]]:
        """(id, release time, sections) of every article still held back, soonest first."""

    async def section_seqs(self) -> dict[str, int]:
        """Per section, the seq of the newest change that touched it (for dirty tracking)."""

    # -- tokens ---------------------------------------------------------------
    async def add_token(
        self,
        *,
        name: str,
        role: Role,
        token_hash: str,
        sections: Sequence[str] = (),
        embargoed: bool = False,
        now: datetime,
        expires: datetime | None = None,
    ) -> Token: ...

    async def find_token(self, token_hash: str) -> Token | None:
        """The live (not revoked) token with this hash; the caller checks its expiry."""

    async def list_tokens(self) -> list[Token]:
        """Every live token, by name."""

    async def revoke_tokens(self, name: str, *, now: datetime) -> int:
        """Revoke every live token named `name` (kept, marked); `NotFound` if there is none."""

    async def rotate_token(self, name: str, token_hash: str, *, now: datetime) -> Token:
        """Give the one live token named `name` a new hash, same grants; `NotFound` otherwise."""

    async def touch_tokens(self, used: Mapping[int, datetime]) -> None:
        """Record when tokens were last used (a batch, by token id)."""

    async def service_key(self, name: str, size: int) -> bytes:
        """The service's own secret `name` (`size` random bytes, made once, then kept)."""

    # -- push destinations (the change log is their outbox) ---------------------------
    async def add_destination(self, d: Destination) -> Destination: ...

    async def destinations(self) -> list[Destination]:
        """Every destination not removed, by id."""

    async def remove_destination(self, destination_id: str, *, now: datetime) -> None: ...

    async def advance_destination(
        self, destination_id: str, position: int, *, delivered: int, when: datetime | None
    ) -> None:
        """Delivered (or skipped, with nothing for it) through change `position`."""

    async def push_failed(self, destination_id: str, error: str) -> None: ...

    async def park_dead(
        self, destination_id: str, change: Change, error: str, *, now: datetime
    ) -> None:
        """Give up on the delivery of `change`: record it as dead and move past it."""

    async def rewind_destination(self, destination_id: str, position: int) -> None:
        """Deliver again everything after `position` (a replay)."""

    async def changes_after(
        self, after_seq: int, sections: Sequence[str], limit: int
    ) -> list[Change]:
        """Changes touching any of `sections` with seq > `after_seq`, oldest first."""

    # -- published feeds and scale-out ------------------------------------------
    async def save_feeds(self, documents: Sequence[FeedDocument]) -> list[FeedDocument]:
        """Upsert rendered documents by (section, name) and tell other processes (NOTIFY).

        Returns the stored documents that won over given ones: renders of a newer store
        state another process saved first (never any on a store one process uses).
        """

    async def load_feeds(self, section: str | None = None) -> list[FeedDocument]:
        """Every stored document (or one section's), for a process filling its memory."""

    async def subscribe_feeds(self, callback: Callable[[str], None]) -> None:
        """Call `callback(section)` when another process saved that section's feeds.

        A no-op for a store that only one process uses (SQLite).
        """

    async def try_lead(self) -> bool:
        """Try to become (or stay) the one process that runs the timer; True if we are.

        Cheap enough to call every few seconds. If the holder dies, another process's
        call succeeds within seconds (PostgreSQL: a session advisory lock).
        """

    async def resign(self) -> None:
        """Give up the timer if we hold it (at shutdown)."""

    def health(self) -> dict[str, Any]:
        """`{"degraded": bool, ...}`: True when this process may be serving stale feeds because
        it has not heard from a shared database for a while (never for SQLite)."""

    # -- the editors' desk: sessions, the article list, headline search ----------------
    async def add_desk_session(
        self,
        *,
        session_hash: str,
        token_id: int,
        csrf: str,
        now: datetime,
        idle_since: datetime,
    ) -> None:
        """Keep a new session (by the hash of its id); sessions unused since before
        `idle_since` are deleted on the way."""

    async def find_desk_session(
        self, session_hash: str, *, idle_since: datetime
    ) -> DeskSession | None:
        """The session, if used since `idle_since` and its token is not revoked (the caller
        checks the token's expiry and role)."""

    async def touch_desk_session(self, session_hash: str, *, now: datetime) -> None:
        """Record that the session was used at `now` (its idle time starts again)."""

    async def end_desk_session(self, session_hash: str) -> None:
        """Sign out: the session is gone, on every process."""

    async def list_articles(
        self,
        *,
        section: str | None,
        state: ArticleState | None,
        words: Sequence[str],
        limit: int,
        after: tuple[str, str] | None,
        now: datetime,
    ) -> list[tuple[Article, str]]:
        """Articles newest first by `published`, then by id, each with its sort key.

        Filters: a section, a state (`held`: published but released after `now`), and
        headline words (each must begin a word of the headline; see `store/words.py`).
        `after` is (sort key, id) of the last article of the previous page: keyset paging,
        so rows written meanwhile neither repeat nor push others off a page. `BadRequest`
        for a key this store did not make.
        """

    # -- imports: "also read" teasers matched to stored articles ------------------------------
    async def public_urls_by_headline(
        self, headlines: Sequence[str], *, now: datetime
    ) -> dict[str, str]:
        """The canonical URL of the newest public article (published, released by `now`)
        whose headline is exactly each of `headlines`; headlines without one are left out."""

    # -- readers' reach: tag and author feeds, archives, sitemaps (store/reach_*.py) --------
    # Indexes follow the change log (see store/reach_index.py); every query below keeps only
    # what is public at `now`: never a withdrawn, embargoed or future-dated article.
    async def index_changes(self) -> int:
        """Bring the tag, author and archive indexes up to the newest change; its seq.

        Cost grows with the changes since the last call, not with the store. Safe to call
        from several processes at once (each change is indexed once).
        """

    async def reach_changes(self, after_seq: int, limit: int) -> list[ReachChange]:
        """What the changes after `after_seq` touched (tags, authors, sections), oldest first."""

    async def by_tag(self, tag: str, limit: int, *, now: datetime) -> list[Article]:
        """The newest public articles with this tag key (`taxonomy.tag_key`), newest first."""

    async def by_author(self, slug: str, limit: int, *, now: datetime) -> list[Article]:
        """The newest public articles by this author slug (`taxonomy.author_slug`)."""

    async def recent(self, since: datetime, limit: int, *, now: datetime) -> list[Article]:
        """Public articles published in [since, now], newest first (the news sitemap)."""

    async def archive_count(self, section: str) -> int:
        """How many positions the section's archive sequence has (`all` included)."""

    async def archive_page(self, section: str, page: int, *, now: datetime) -> list[Article]:
        """Archive page `page` (from 1) of a section, newest first, each entry in the version
        it shows (see store/reach_index.py); stories no longer public there are left out."""

    async def sitemap_urls(
        self, section: str, first: int, last: int, *, now: datetime
    ) -> list[tuple[str, datetime]]:
        """(canonical URL, last modified) of the public articles at archive positions
        `first`..`last` of a section, newest first."""


class BatchPuts:
    """`put` and `put_many` for a store that writes batches through `_put_all`."""

    async def _put_all(
        self, records: Sequence[dict[str, Any]], now: datetime, expected_version: int | None
    ) -> list[PutResult]:
        raise NotImplementedError

    async def put(
        self, record: dict[str, Any], *, expected_version: int | None = None, now: datetime
    ) -> PutResult:
        return (await self._put_all([record], now, expected_version))[0]

    async def put_many(
        self, records: Sequence[dict[str, Any]], *, now: datetime
    ) -> list[PutResult]:
        if not records:
            return []
        return await self._put_all(records, now, None)


class DecodedReads:
    """`latest` for a store whose reads come undecoded from `latest_stored`."""

    async def latest_stored(
        self, section: str | None, limit: int, *, now: datetime
    ) -> list[StoredArticle]:
        raise NotImplementedError

    async def latest(self, section: str | None, limit: int, *, now: datetime) -> list[Article]:
        return [s.article() for s in await self.latest_stored(section, limit, now=now)]
