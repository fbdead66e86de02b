"""The newsroom's nouns as plain frozen dataclasses: Article and its parts. No I/O here.

An `Article` is built from a validated record (see `syndicate.validate`); `record` keeps the
submitted JSON (sanitised) so that text round-trips byte-exact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any, Literal

import orjson

from syndicate.core.quickpickle import quick_pickle

Status = Literal["published", "withdrawn"]
PUBLISHED: Status = "published"
WITHDRAWN: Status = "withdrawn"

# Fields the store owns: never part of the content hash, never accepted from editors.
STORE_FIELDS = ("version", "status", "first_created", "version_created")


def parse_time(value: str) -> datetime:
    """An RFC 3339 timestamp (already validated) as an aware datetime."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text.replace("t", "T"))


def format_time(value: datetime) -> str:
    """RFC 3339 with offset, seconds precision unless there are microseconds."""
    return value.isoformat()


@quick_pickle()
@dataclass(frozen=True, slots=True)
class Author:
    name: str
    url: str | None = None
    email: str | None = None


@quick_pickle()
@dataclass(frozen=True, slots=True)
class Image:
    url: str
    caption: str | None = None
    credit: str | None = None
    width: int | None = None
    height: int | None = None
    mime_type: str | None = None
    length: int | None = None  # bytes, for RSS enclosures


@quick_pickle()
@dataclass(frozen=True, slots=True)
class RelatedLink:
    # None: a story named by its headline alone (renderers write no link element for it).
    url: str | None
    title: str | None = None


@quick_pickle()
@dataclass(frozen=True, slots=True)
class Rights:
    holder: str | None = None
    usage_terms: str | None = None


def canonical_json(record: Mapping[str, Any]) -> str:
    """The editorial content as compact JSON with sorted keys: the form stored and hashed."""
    content = {k: v for k, v in record.items() if k not in STORE_FIELDS}
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def hash_canonical(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def content_hash(record: Mapping[str, Any]) -> str:
    """A hash of the editorial content: same record -> same hash, whatever the key order."""
    return hash_canonical(canonical_json(record))


# Pickled for a render worker, an article leaves its stored record behind: feeds never read
# it, and it is most of the bytes. Its hash is made again where it is used (string hashes
# differ from process to process).
@quick_pickle(leave_out=["record", "_hash"])
@dataclass(frozen=True, slots=True)
class Article:
    """One article as stored: the editorial record plus what the store owns.

    `record` is the canonical JSON form (what the API returns); the typed fields are
    derived from it once, so renderers never parse strings.
    """

    id: str
    headline: str
    body_html: str
    language: str
    sections: tuple[str, ...]
    published: datetime
    canonical_url: str
    summary: str | None = None
    authors: tuple[Author, ...] = ()
    updated: datetime | None = None
    embargo_until: datetime | None = None
    image: Image | None = None
    tags: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    related: tuple[RelatedLink, ...] = ()
    urgency: int | None = None
    rights: Rights | None = None
    editorial_note: str | None = None
    # The identity readers already hold (an imported item's RSS guid / Atom id / JSON Feed
    # id). A typed field, not read from `record`: fragment caches key on the Article's fields.
    guid: str | None = None
    # Owned by the store.
    version: int = 1
    status: Status = PUBLISHED
    first_created: datetime | None = None
    version_created: datetime | None = None
    record: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        # Computed once: an article is a key of a render worker's caches, looked up for every
        # feed it is in, and the hash of all its fields cost ~6% of a cold render.
        if not self._hash:
            object.__setattr__(self, "_hash", hash(_compared(self)))
        return self._hash

    @property
    def modified(self) -> datetime:
        """When the content last changed as the newsroom says: `updated`, else `published`."""
        return self.updated or self.published

    @property
    def release_at(self) -> datetime:
        """The moment it may appear in public: the later of `published` and `embargo_until`."""
        if self.embargo_until is not None and self.embargo_until > self.published:
            return self.embargo_until
        return self.published

    @property
    def content_hash(self) -> str:
        return content_hash(self.record)

    def as_record(self) -> dict[str, Any]:
        """The record as the API returns it: the editorial fields plus version and status."""
        out = dict(self.record)
        out["version"] = self.version
        out["status"] = self.status
        if self.first_created is not None:
            out["first_created"] = format_time(self.first_created)
        if self.version_created is not None:
            out["version_created"] = format_time(self.version_created)
        return out

    @classmethod
    def from_record(
        cls,
        record: Mapping[str, Any],
        *,
        version: int = 1,
        status: Status = PUBLISHED,
        first_created: datetime | None = None,
        version_created: datetime | None = None,
    ) -> Article:
        """Build from a record that `validate` has accepted (no checks repeated here)."""
        rec = {k: v for k, v in record.items() if k not in STORE_FIELDS}
        image = rec.get("image")
        rights = rec.get("rights")
        return cls(
            id=rec["id"],
            headline=rec["headline"],
            body_html=rec["body_html"],
            language=rec["language"],
            sections=tuple(rec["sections"]),
            published=parse_time(rec["published"]),
            canonical_url=rec["canonical_url"],
            summary=rec.get("summary"),
            authors=tuple(
                Author(a["name"], a.get("url"), a.get("email")) for a in rec.get("authors", ())
            ),
            updated=parse_time(rec["updated"]) if rec.get("updated") else None,
            embargo_until=parse_time(rec["embargo_until"]) if rec.get("embargo_until") else None,
            image=Image(
                url=image["url"],
                caption=image.get("caption"),
                credit=image.get("credit"),
                width=image.get("width"),
                height=image.get("height"),
                mime_type=image.get("mime_type"),
                length=image.get("length"),
            )
            if image
            else None,
            tags=tuple(rec.get("tags", ())),
            subjects=tuple(rec.get("subjects", ())),
            related=tuple(
                RelatedLink(r.get("url"), r.get("title")) for r in rec.get("related", ())
            ),
            urgency=rec.get("urgency"),
            rights=Rights(rights.get("holder"), rights.get("usage_terms")) if rights else None,
            editorial_note=rec.get("editorial_note"),
            guid=rec.get("guid"),
            version=version,
            status=status,
            first_created=first_created,
            version_created=version_created,
            record=rec,
        )


# What an article's equality compares, so its hash covers the same.
_compared = attrgetter(*(f.name for f in fields(Article) if f.compare))


# Sent to a render worker as it came from the store: pickling text is cheaper than pickling
# the decoded article, and the worker decodes it (once: workers keep what they decoded).
@quick_pickle()
@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as a store row holds it, not yet decoded: its record's JSON text (or that
    text's UTF-8 bytes, as SQLite gives them) and the fields the store owns. Decoding (~30 us
    an article) is left to whoever renders it, so a regeneration does not decode fifty
    articles a section on the loop that answers readers.
    """

    record_json: str | bytes
    version: int
    status: Status
    first_created: datetime | None
    version_created: datetime | None

    def article(self) -> Article:
        return Article.from_record(
            orjson.loads(self.record_json),
            version=self.version,
            status=self.status,
            first_created=self.first_created,
            version_created=self.version_created,
        )


ChangeKind = Literal["created", "updated", "withdrawn", "released"]


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the store's change log, for partners' incremental pulls.

    `seq` rises monotonically; `article` is the record as it was at that change. `held` is
    true when the change happened while the article was still embargoed or future-dated:
    only partners allowed embargoed content see held changes; everyone else sees the
    `released` change written when the embargo ends.
    """

    seq: int
    kind: ChangeKind
    article: Article
    held: bool


PubStatus = Literal["usable", "withheld", "canceled"]


@dataclass(frozen=True, slots=True)
class Notice:
    """What one partner is told about one article at one change (see `syndicate.core.delivery`).

    `article` is the version the partner may see, numbered in the partner's own sequence of
    notices; a `withheld` or `canceled` notice carries the last version it had, nothing
    newer. `held` marks a usable version an embargo-privileged partner gets before release.
    """

    seq: int
    pubstatus: PubStatus
    article: Article
    held: bool = False


@dataclass(frozen=True, slots=True)
class PutResult:
    """What storing one record did: `created`, `updated` or `unchanged`."""

    outcome: Literal["created", "updated", "unchanged"]
    article: Article


# `metrics` only reads /metrics: a scraper's credential must not be able to publish or pull.
Role = Literal["editor", "partner", "metrics", "admin"]
ROLES: tuple[Role, ...] = ("editor", "partner", "metrics", "admin")


@dataclass(frozen=True, slots=True)
class Token:
    """A credential as stored: only the SHA-256 of the secret is kept."""

    id: int
    name: str
    role: Role
    sections: tuple[str, ...] = ()
    embargoed: bool = False  # partner may receive embargoed items early
    token_hash: str = field(default="", repr=False)
    created: datetime | None = None
    expires: datetime | None = None  # refused from this moment on; None: until revoked
    last_used: datetime | None = None  # recorded in batches, so up to a few seconds behind

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and self.expires <= now

    def may_read(self, section: str) -> bool:
        return self.role == "partner" and section in self.sections


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """One rendered feed as published: `feeds/{section}/{name}` and its bytes.

    Kept in the store as well as on disk so every process of a scale-out serves the same
    bytes; `generated` is when those bytes were first produced (for Last-Modified); `seq` is
    the store's change seq the render read (a render that read more replaces one that read less).
    `gzip` is `body` by `core.compression.gzip_fast`, when made already (a render worker
    makes it): the store keeps feeds in that form, and makes it itself when it is missing.
    """

    section: str
    name: str
    body: bytes
    generated: datetime
    seq: int = 0
    gzip: bytes | None = field(default=None, compare=False, repr=False)


PushFormat = Literal["newsml", "ninjs"]


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a partner is pushed to: its endpoint, format, sections and delivery state.

    `position` is the change-log seq delivered through: what comes after it is the queue
    (the change log is written in the change's own transaction, so nothing can be lost
    between a change and its delivery). `secret` signs the deliveries; it is kept as it is,
    because signing needs it (like a webhook's secret), and shown only when made.
    """

    id: str
    token_id: int
    url: str
    format: PushFormat
    sections: tuple[str, ...]
    secret: str = field(default="", repr=False)
    created: datetime | None = None
    position: int = 0
    delivered: int = 0
    failed: int = 0  # attempts that failed (each retry counts)
    dead: int = 0  # deliveries given up on and parked
    last_error: str | None = None
    last_delivered: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeskSession:
    """A signed-in editors' desk session as stored: only the hash of its cookie's id is kept.

    `csrf` is the token every state-changing form of the session must carry; `token` is the
    live credential the editor signed in with (revoking it ends the session).
    """

    session_hash: str = field(repr=False)
    token: Token
    csrf: str = field(repr=False)
    created: datetime
    last_seen: datetime


ArticleState = Literal["published", "withdrawn", "held"]
ARTICLE_STATES: tuple[ArticleState, ...] = ("published", "withdrawn", "held")
