"""The feeds a process serves, held in memory with their precompressed copies and ETags.

Regeneration fills it; the web layer only reads it. Bytes are compressed once here, never
per request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import format_datetime

from syndicate.core.model import FeedDocument
from syndicate.pipeline.publish import brotli_bytes, gzip_bytes


def strong_etag(body: bytes) -> str:
    """A strong, quoted ETag from the bytes alone: the same on every instance and every run."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@dataclass(frozen=True, slots=True)
class ServedFeed:
    """One document ready to answer a request: identity, gzip and brotli bodies."""

    section: str
    name: str
    body: bytes
    gzip: bytes
    # After a change, `gzip` is the fast copy and `br` None until the background step puts the
    # small copies in (see publish.py); the ETag is the body's, the same throughout.
    br: bytes | None
    etag: str  # strong, quoted: a hash of the bytes, the same on every instance
    last_modified: datetime
    last_modified_http: str
    # The store state it was rendered from (its section's newest change seq; -1: unknown):
    # what orders two renders, whichever arrives last (see `FeedCache.put_served`).
    seq: int = -1

    @classmethod
    def rendered(cls, doc: FeedDocument, etag: str, gzip: bytes | None) -> ServedFeed:
        """A document whose ETag and gzip copy a render worker already made."""
        modified = doc.generated.replace(microsecond=0)
        return cls(
            section=doc.section,
            name=doc.name,
            body=doc.body,
            gzip=gzip if gzip is not None else gzip_bytes(doc.body),
            br=None,
            etag=etag,
            last_modified=modified,
            last_modified_http=format_datetime(modified, usegmt=True),
            seq=doc.seq,
        )

    @classmethod
    def from_document(
        cls, doc: FeedDocument, *, gzip: bytes | None = None, br: bytes | None = None
    ) -> ServedFeed:
        """A stored document, with its small copies (made here unless given)."""
        # Whole seconds: HTTP dates carry no fractions, and If-Modified-Since compares them.
        modified = doc.generated.replace(microsecond=0)
        return cls(
            section=doc.section,
            name=doc.name,
            body=doc.body,
            gzip=gzip if gzip is not None else gzip_bytes(doc.body),
            br=br if br is not None else brotli_bytes(doc.body),
            etag=strong_etag(doc.body),
            last_modified=modified,
            last_modified_http=format_datetime(modified, usegmt=True),
            seq=doc.seq,
        )


class FeedCache:
    """(section, name) -> ServedFeed; replaced whole per document, so readers never tear.

    A document is never replaced by one rendered from an older store state: a run here and a
    load of another process's render may finish in either order (a run that saved the older
    state put its render in after the newer one had been loaded, and served it for good).
    """

    def __init__(self) -> None:
        self._feeds: dict[tuple[str, str], ServedFeed] = {}

    def get(self, section: str, name: str) -> ServedFeed | None:
        return self._feeds.get((section, name))

    def put(self, doc: FeedDocument) -> ServedFeed:
        """Serve a stored document, unless what is served was rendered from a newer state."""
        current = self._feeds.get((doc.section, doc.name))
        if current is not None and current.body == doc.body:
            return self._newest(current, doc.seq)
        if current is not None and current.seq > doc.seq:
            return current
        served = ServedFeed.from_document(doc)
        self._feeds[(doc.section, doc.name)] = served
        return served

    def put_served(self, served: ServedFeed) -> bool:
        """Serve `served`; False (nothing done) if what is served was rendered from a newer
        store state."""
        current = self._feeds.get((served.section, served.name))
        if current is not None and current.seq > served.seq:
            return False
        self._feeds[(served.section, served.name)] = served
        return True

    def _newest(self, current: ServedFeed, seq: int) -> ServedFeed:
        if seq > current.seq:  # the same bytes, known to hold for a newer state
            current = self._feeds[(current.section, current.name)] = replace(current, seq=seq)
        return current

    def add_copies(self, section: str, name: str, body: bytes, gzip: bytes, br: bytes) -> bool:
        """Put the small gzip and brotli copies in, if the document is still the one they
        were made from (the fast gzip copy served until now is replaced)."""
        current = self._feeds.get((section, name))
        if current is None or current.body != body:
            return False
        self._feeds[(section, name)] = replace(current, gzip=gzip, br=br)
        return True

    def drop(self, section: str) -> None:
        """Forget a section's documents (the benchmark uses it to force a full render)."""
        for key in [k for k in self._feeds if k[0] == section]:
            del self._feeds[key]

    def sections(self) -> set[str]:
        return {section for section, _ in self._feeds}

    def __len__(self) -> int:
        return len(self._feeds)
