"""The stores' schemas as numbered, append-only migrations: never edit one that has shipped.

Each store applies the ones it has not recorded in `schema_migrations`, in order.
"""

from __future__ import annotations

from typing import NamedTuple


class _Types(NamedTuple):
    """What one store's SQL calls the kinds of column a migration written once needs."""

    key: str  # text compared byte for byte
    big: str  # a whole number as large as a change seq
    stamp: str  # a point in time, as the store writes it
    seconds: str  # a point in time the store compares as a number (SQLite) or a time
    published: str  # the articles table's publication time column
    clustered: str  # what makes a table be stored in its key's order, where that is said


def _desk_tables(t: _Types) -> str:
    """The editors' desk, for both stores: sessions (only the hash of the cookie's id is
    kept), the articles newest first for its list, and headline words for its search, kept
    up to date from the change log (`headline_index.seq`: indexed through that change)."""
    return f"""
    CREATE TABLE desk_sessions (
        session_hash {t.key} PRIMARY KEY,
        token_id {t.big} NOT NULL REFERENCES tokens (id),
        csrf TEXT NOT NULL,
        created {t.stamp} NOT NULL,
        last_seen {t.seconds} NOT NULL
    );
    CREATE INDEX desk_sessions_seen ON desk_sessions (last_seen);
    CREATE INDEX articles_by_published ON articles ({t.published} DESC, id);
    CREATE TABLE headline_words (
        word {t.key} NOT NULL,
        article_id {t.key} NOT NULL,
        PRIMARY KEY (word, article_id)
    ) {t.clustered};
    CREATE INDEX headline_words_by_article ON headline_words (article_id);
    CREATE TABLE headline_index (id INTEGER PRIMARY KEY CHECK (id = 1), seq {t.big} NOT NULL);
    INSERT INTO headline_index (id, seq) VALUES (1, 0);
    """


# Append-only: never edit a migration that has shipped; add the next one.
SQLITE: tuple[str, ...] = (
    """
    CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        article_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        kind TEXT NOT NULL,
        held INTEGER NOT NULL,
        record TEXT NOT NULL,
        first_created TEXT NOT NULL,
        version_created TEXT NOT NULL
    );
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL REFERENCES changes(seq),
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        published_ts REAL NOT NULL,
        release_ts REAL NOT NULL,
        release_pending INTEGER NOT NULL,
        first_created TEXT NOT NULL,
        sections TEXT NOT NULL
    );
    CREATE INDEX articles_public ON articles (status, published_ts DESC, id);
    CREATE INDEX articles_pending ON articles (release_ts) WHERE release_pending = 1;
    CREATE TABLE article_sections (
        section TEXT NOT NULL,
        article_id TEXT NOT NULL,
        published_ts REAL NOT NULL,
        release_ts REAL NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (section, article_id)
    ) WITHOUT ROWID;
    CREATE INDEX article_sections_latest
        ON article_sections (section, status, published_ts DESC, article_id);
    CREATE TABLE change_sections (
        section TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (section, seq)
    ) WITHOUT ROWID;
    CREATE TABLE section_changes (
        section TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
    );
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        sections TEXT NOT NULL,
        embargoed INTEGER NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE feeds (
        section TEXT NOT NULL,
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        generated TEXT NOT NULL,
        PRIMARY KEY (section, name)
    );
    """,
    # Re-placing or withdrawing an article finds its rows by id, not by a table scan.
    """
    CREATE INDEX article_sections_by_article ON article_sections (article_id);
    """,
    # A withdrawal asks whether the public ever saw the article: its changes, by id.
    """
    CREATE INDEX changes_by_article ON changes (article_id, held);
    """,
    # Keys the service keeps for itself (the partner cursors' AEAD key), the same on every
    # process that shares the store.
    """
    CREATE TABLE service_keys (name TEXT PRIMARY KEY, value BLOB NOT NULL);
    """,
    # Token lifecycle: an expiry, a revocation (kept, not deleted: who had access, when), and
    # the last use (written in batches).
    """
    ALTER TABLE tokens ADD COLUMN expires TEXT;
    ALTER TABLE tokens ADD COLUMN revoked TEXT;
    ALTER TABLE tokens ADD COLUMN last_used TEXT;
    """,
    # Push destinations: a partner's endpoints and how far delivery has got (`position`, a
    # change seq: the change log itself is the outbox). Dead deliveries are kept to be shown.
    """
    CREATE TABLE push_destinations (
        id TEXT PRIMARY KEY,
        token_id INTEGER NOT NULL REFERENCES tokens(id),
        url TEXT NOT NULL,
        format TEXT NOT NULL,
        sections TEXT NOT NULL,
        secret TEXT NOT NULL,
        created TEXT NOT NULL,
        position INTEGER NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        dead INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        last_delivered TEXT,
        removed TEXT
    );
    CREATE TABLE push_dead (
        destination TEXT NOT NULL,
        seq INTEGER NOT NULL,
        article_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        error TEXT NOT NULL,
        parked TEXT NOT NULL,
        PRIMARY KEY (destination, seq)
    );
    """,
    # The editors' desk (see `_desk_tables`).
    _desk_tables(_Types("TEXT", "INTEGER", "TEXT", "REAL", "published_ts", "WITHOUT ROWID")),
    # Imported pages link their "also read" teasers to stored articles by headline.
    """
    CREATE INDEX changes_by_headline ON changes (json_extract(record, '$.headline'));
    """,
    # Readers' reach (tag and author feeds, RFC 5005 archives, sitemaps): indexes kept from the
    # change log past `reach_state.seq` (see store/reach_index.py). `article_keys` holds each
    # article's tag keys and author slugs; `archive_entries` each section's archive sequence.
    """
    CREATE TABLE article_keys (
        kind TEXT NOT NULL,
        term TEXT NOT NULL,
        article_id TEXT NOT NULL,
        published_ts REAL NOT NULL,
        PRIMARY KEY (kind, term, article_id)
    ) WITHOUT ROWID;
    CREATE INDEX article_keys_latest ON article_keys (kind, term, published_ts DESC, article_id);
    CREATE INDEX article_keys_by_article ON article_keys (article_id);
    CREATE TABLE archive_entries (
        section TEXT NOT NULL,
        position INTEGER NOT NULL,
        article_id TEXT NOT NULL,
        seq INTEGER,
        PRIMARY KEY (section, position)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX archive_entries_by_article ON archive_entries (article_id, section);
    CREATE TABLE reach_state (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
    """,
    # Feeds kept gzipped (see store/feed_bodies.py); rows saved before are read as they are.
    """
    ALTER TABLE feeds ADD COLUMN encoding TEXT NOT NULL DEFAULT 'identity';
    """,
)


# Append-only: never edit a migration that has shipped; add the next one. Each store numbers
# its own list (its `schema_migrations` holds those numbers): the two do not line up one for
# one, as a step one backend needed the other had from its first migration or never needs
# (SQLite's third is in PostgreSQL's first; only PostgreSQL records a saved feed's seq).
# - `record` is text, not jsonb: jsonb reorders keys, and records round-trip byte-exact.
# - Ids and sections sort with COLLATE "C" (bytewise, like SQLite), not the server's locale,
#   so the `id` tiebreak in feeds is the same on every backend and every server.
POSTGRES: tuple[str, ...] = (
    """
    CREATE TABLE changes (
        seq BIGINT PRIMARY KEY,
        article_id TEXT COLLATE "C" NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        kind TEXT NOT NULL,
        held BOOLEAN NOT NULL,
        record TEXT NOT NULL,
        first_created TIMESTAMPTZ NOT NULL,
        version_created TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE articles (
        id TEXT COLLATE "C" PRIMARY KEY,
        seq BIGINT NOT NULL REFERENCES changes (seq),
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        published TIMESTAMPTZ NOT NULL,
        release_at TIMESTAMPTZ NOT NULL,
        release_pending BOOLEAN NOT NULL,
        first_created TIMESTAMPTZ NOT NULL,
        sections TEXT[] NOT NULL
    );
    CREATE INDEX articles_public ON articles (published DESC, id) WHERE status = 'published';
    CREATE INDEX articles_pending ON articles (release_at, id) WHERE release_pending;
    CREATE TABLE article_sections (
        section TEXT COLLATE "C" NOT NULL,
        article_id TEXT COLLATE "C" NOT NULL REFERENCES articles (id),
        published TIMESTAMPTZ NOT NULL,
        release_at TIMESTAMPTZ NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (section, article_id)
    );
    CREATE INDEX article_sections_latest
        ON article_sections (section, published DESC, article_id) WHERE status = 'published';
    CREATE INDEX article_sections_article ON article_sections (article_id);
    CREATE TABLE change_sections (
        section TEXT COLLATE "C" NOT NULL,
        seq BIGINT NOT NULL REFERENCES changes (seq),
        PRIMARY KEY (section, seq)
    );
    CREATE TABLE section_changes (
        section TEXT COLLATE "C" PRIMARY KEY,
        seq BIGINT NOT NULL
    );
    CREATE TABLE tokens (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('editor', 'partner')),
        sections TEXT[] NOT NULL,
        embargoed BOOLEAN NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created TIMESTAMPTZ NOT NULL
    );
    """,
    """
    CREATE TABLE feeds (
        section TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        body BYTEA NOT NULL,
        generated TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (section, name)
    );
    """,
    # A withdrawal asks whether the public ever saw the article: its changes, by id.
    """
    CREATE INDEX changes_by_article ON changes (article_id, held);
    """,
    # Which store state a saved feed was rendered from: renders replace feeds by this, not by
    # their clocks (two processes' renders in one second carried the same time).
    """
    ALTER TABLE feeds ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
    """,
    """
    CREATE TABLE service_keys (name TEXT COLLATE "C" PRIMARY KEY, value BYTEA NOT NULL);
    """,
    # The `metrics` role (scrapes /metrics, nothing else). SQLite never constrained the role.
    """
    ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
    ALTER TABLE tokens ADD CONSTRAINT tokens_role_check
        CHECK (role IN ('editor', 'partner', 'metrics'));
    """,
    """
    ALTER TABLE tokens ADD COLUMN expires TIMESTAMPTZ, ADD COLUMN revoked TIMESTAMPTZ,
        ADD COLUMN last_used TIMESTAMPTZ;
    ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
    ALTER TABLE tokens ADD CONSTRAINT tokens_role_check
        CHECK (role IN ('editor', 'partner', 'metrics', 'admin'));
    """,
    """
    CREATE TABLE push_destinations (
        id TEXT COLLATE "C" PRIMARY KEY,
        token_id BIGINT NOT NULL REFERENCES tokens (id),
        url TEXT NOT NULL,
        format TEXT NOT NULL CHECK (format IN ('newsml', 'ninjs')),
        sections TEXT[] NOT NULL,
        secret TEXT NOT NULL,
        created TIMESTAMPTZ NOT NULL,
        position BIGINT NOT NULL,
        delivered BIGINT NOT NULL DEFAULT 0,
        failed BIGINT NOT NULL DEFAULT 0,
        dead BIGINT NOT NULL DEFAULT 0,
        last_error TEXT,
        last_delivered TIMESTAMPTZ,
        removed TIMESTAMPTZ
    );
    CREATE TABLE push_dead (
        destination TEXT COLLATE "C" NOT NULL,
        seq BIGINT NOT NULL,
        article_id TEXT COLLATE "C" NOT NULL,
        version INTEGER NOT NULL,
        error TEXT NOT NULL,
        parked TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (destination, seq)
    );
    """,
    # The editors' desk (see `_desk_tables`).
    _desk_tables(
        _Types('TEXT COLLATE "C"', "BIGINT", "TIMESTAMPTZ", "TIMESTAMPTZ", "published", "")
    ),
    # Imported pages link their "also read" teasers to stored articles by headline.
    """
    CREATE INDEX changes_by_headline ON changes ((record::jsonb ->> 'headline'));
    """,
    # Readers' reach: the same indexes as SQLite's (see store/reach_index.py).
    """
    CREATE TABLE article_keys (
        kind TEXT COLLATE "C" NOT NULL,
        term TEXT COLLATE "C" NOT NULL,
        article_id TEXT COLLATE "C" NOT NULL,
        published TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (kind, term, article_id)
    );
    CREATE INDEX article_keys_latest ON article_keys (kind, term, published DESC, article_id);
    CREATE INDEX article_keys_by_article ON article_keys (article_id);
    CREATE TABLE archive_entries (
        section TEXT COLLATE "C" NOT NULL,
        position INTEGER NOT NULL,
        article_id TEXT COLLATE "C" NOT NULL,
        seq BIGINT,
        PRIMARY KEY (section, position),
        UNIQUE (article_id, section)
    );
    CREATE TABLE reach_state (name TEXT COLLATE "C" PRIMARY KEY, seq BIGINT NOT NULL);
    """,
    # Feeds kept gzipped (see store/feed_bodies.py); rows saved before are read as they are.
    """
    ALTER TABLE feeds ADD COLUMN encoding TEXT NOT NULL DEFAULT 'identity';
    """,
)
