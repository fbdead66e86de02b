"""Documents rendered on demand: tag and author feeds, archive pages, sitemaps.

There are too many of them to render ahead (a feed per tag, per author, per archive page), so
each is rendered when first asked for, in a render worker, and kept in a bounded cache (bytes
and entries, least recently used first) with its ETag and gzip copy: a warm request is served
from memory like a section feed. "Not found" is cached too, so unknown tags cost one query.

Invalidation follows the change log, the same in every process: `watch` reads the changes
since the last one seen (twice a second) and drops every cached document a change can touch:
those containing the article, the feeds of its tags and authors (old and new version), the
archive pages and sitemaps of its sections, the news sitemap. A render that overlapped an
invalidation is served but not kept. Nothing here is ever public that the store does not call
public at the time of the render: every query filters by `now`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from syndicate.core.clock import Clock, utc_now
from syndicate.core.config import ALL_SECTION, DEFAULT_LIMIT, Section, Settings
from syndicate.core.model import Article
from syndicate.core.taxonomy import author_slug, path_segment, tag_key
from syndicate.pipeline import archive
from syndicate.pipeline.publish import gzip_bytes
from syndicate.pipeline.render_pool import RenderPool
from syndicate.pipeline.served import strong_etag
from syndicate.render import FORMATS, FeedContext
from syndicate.render import sitemap as sitemaps
from syndicate.render.documents import FeedSection
from syndicate.store.base import Store
from syndicate.store.reach_index import AUTHOR, TAG, ReachChange

log = logging.getLogger(__name__)

WATCH_SECONDS = 0.5  # how often the change log is read for invalidations
BUDGET = 64 * 1024 * 1024  # bytes of documents kept
MAX_ENTRIES = 20_000  # documents (and "not found" answers) kept
FEED_LIMIT = DEFAULT_LIMIT  # items in a tag or author feed
NEWS_WINDOW = timedelta(hours=48)  # Google News takes articles of the last two days
NEWS_TTL = 60.0  # seconds: articles leave the news sitemap's window at most this late
# Section sitemaps are cut by the archive sequence, 200 archive pages each.
SITEMAP_PAGE = 200 * archive.PAGE_SIZE
CHANGES_PER_READ = 1000

Key = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """One document ready to serve: bytes, gzip copy, validators and how long caches keep it."""

    body: bytes
    gzip: bytes
    media_type: str
    etag: str
    last_modified: datetime
    last_modified_http: str
    max_age: int
    members: frozenset[str] = frozenset()
    expires: float | None = None  # time.monotonic() after which it is rendered again


class OnDemandFeeds:
    """The on-demand documents of one process; `watch` keeps them current."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        pool: RenderPool,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.store = store
        self.pool = pool
        self.clock = clock
        self.context = FeedContext.from_settings(settings)
        self.hits = 0
        self.misses = 0
        self.size = 0
        self._docs: OrderedDict[Key, Document | None] = OrderedDict()
        self._by_member: dict[str, set[Key]] = {}
        self._inflight: dict[Key, asyncio.Future[Document | None]] = {}
        # Validators of documents dropped since: identical bytes keep their Last-Modified.
        self._validators: OrderedDict[Key, tuple[str, datetime]] = OrderedDict()
        self._epoch = 0
        self._seen = 0

    # -- keeping current ----------------------------------------------------------------
    async def start(self) -> None:
        """Start from the store's newest change (an empty cache reflects all before it)."""
        self._seen = await self.store.max_seq()

    async def watch(self) -> None:
        """Read the change log every `WATCH_SECONDS` and invalidate (runs until cancelled)."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                await self.catch_up()
            except Exception as exc:  # the database is away: the next round tries again
                log.warning("on-demand feeds: cannot read changes: %s", exc)

    async def catch_up(self) -> None:
        """Invalidate for every change stored since the last call."""
        top = await self.store.max_seq()
        while self._seen < top:
            changes = await self.store.reach_changes(self._seen, CHANGES_PER_READ)
            if not changes:
                break
            self.invalidate(changes)
            self._seen = changes[-1].seq

    def invalidate(self, changes: Sequence[ReachChange]) -> None:
        self._epoch += 1
        tags = {t for c in changes for t in c.tags}
        authors = {a for c in changes for a in c.authors}
        sections = {s for c in changes for s in c.sections} | {ALL_SECTION}
        doomed = {key for c in changes for key in self._by_member.get(c.article_id, ())}
        for key in self._docs:
            kind = key[0]
            if (
                (kind == TAG and key[1] in tags)
                or (kind == AUTHOR and key[1] in authors)
                or (kind in ("archive", "sitemap") and key[1] in sections)
                or kind in ("news", "index")
            ):
                doomed.add(key)
        for key in doomed:
            self._drop(key)

    # -- the cache ------------------------------------------------------------------------
    def _drop(self, key: Key) -> None:
        doc = self._docs.pop(key, None)
        if doc is None:
            return
        self.size -= len(doc.body) + len(doc.gzip)
        for member in doc.members:
            keys = self._by_member.get(member)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_member[member]

    def _put(self, key: Key, doc: Document | None) -> None:
        self._drop(key)
        self._docs[key] = doc
        if doc is not None:
            self.size += len(doc.body) + len(doc.gzip)
            for member in doc.members:
                self._by_member.setdefault(member, set()).add(key)
            self._validators[key] = (doc.etag, doc.last_modified)
            self._validators.move_to_end(key)
            while len(self._validators) > MAX_ENTRIES:
                self._validators.popitem(last=False)
        while self._docs and (self.size > BUDGET or len(self._docs) > MAX_ENTRIES):
            self._drop(next(iter(self._docs)))

    def __len__(self) -> int:
        return len(self._docs)

    def clear(self) -> None:
        """Forget every document (the benchmark uses it to time cold renders)."""
        for key in list(self._docs):
            self._drop(key)

    async def get(
        self, key: Key, make: Callable[[], Awaitable[Document | None]]
    ) -> Document | None:
        """The cached document for `key`, or `make()`'s, shared by concurrent askers."""
        if key in self._docs:
            doc = self._docs[key]
            if doc is None or doc.expires is None or doc.expires > time.monotonic():
                self._docs.move_to_end(key)
                self.hits += 1
                return doc
            self._drop(key)
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        self.misses += 1
        future: asyncio.Future[Document | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        epoch = self._epoch
        try:
            doc = await make()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters (if any) get it too
            raise
        finally:
            del self._inflight[key]
        if epoch == self._epoch:
            self._put(key, doc)
        future.set_result(doc)
        return doc

    # -- the documents --------------------------------------------------------------------
    async def tag_feed(self, tag: str, name: str) -> Document | None:
        """A tag's feed in format `name` (`rss`, `atom`, `json`); None: no public story has it."""
        term = tag_key(tag)
        if not term:
            return None
        return await self.get((TAG, term, name), lambda: self._keyed(TAG, term, name))

    async def author_feed(self, slug: str, name: str) -> Document | None:
        term = author_slug(slug)
        if not term:
            return None
        return await self.get((AUTHOR, term, name), lambda: self._keyed(AUTHOR, term, name))

    async def archive_page(self, section: Section, page: int, name: str) -> Document | None:
        """Archive page `page` of a section (or `all`); None past the pages it has."""
        key = ("archive", section.slug, page, name)
        return await self.get(key, lambda: self._archive_page(section, page, name))

    async def news_sitemap(self) -> Document:
        doc = await self.get(("news",), self._news)
        assert doc is not None
        return doc

    async def sitemap_index(self) -> Document:
        doc = await self.get(("index",), self._index)
        assert doc is not None
        return doc

    async def section_sitemap(self, section: Section, page: int) -> Document | None:
        key = ("sitemap", section.slug, page)
        return await self.get(key, lambda: self._section_sitemap(section, page))

    async def _keyed(self, kind: str, term: str, name: str) -> Document | None:
        now = self.clock()
        await self.store.index_changes()  # a story tagged a moment ago is in the feed
        find = self.store.by_tag if kind == TAG else self.store.by_author
        # The index may trail the articles for a moment: keep only what the version says.
        articles = [a for a in await find(term, FEED_LIMIT, now=now) if term in _terms(kind, a)]
        if not articles:
            return None
        section = self._keyed_section(kind, term, articles)
        return await self._feed(
            (kind, term, name), section, articles, name, now, self.settings.feed_max_age
        )

    def _keyed_section(self, kind: str, term: str, articles: Sequence[Article]) -> FeedSection:
        site = self.settings.site_title
        if kind == TAG:
            title, about = term, f"{site}: stories tagged “{term}”"
        else:
            title = next(
                (au.name for a in articles for au in a.authors if author_slug(au.name) == term),
                term,
            )
            about = f"{site}: stories by {title}"
        language = Counter(a.language for a in articles).most_common(1)[0][0]
        return FeedSection(
            slug=f"{kind}:{term}",
            title={language: title},
            description={language: about},
            language=language,
            limit=FEED_LIMIT,
            path=f"{kind}/{path_segment(term)}",
            home=f"{self.context.base_url}/",
            hub=False,
        )

    async def _archive_page(self, section: Section, page: int, name: str) -> Document | None:
        now = self.clock()
        await self.store.index_changes()
        count = await self.store.archive_count(section.slug)
        if not 1 <= page <= archive.served_pages(count):
            return None
        articles = await self.store.archive_page(section.slug, page, now=now)
        full = archive.is_full(page, count)
        age = self.settings.archive_max_age if full else self.settings.feed_max_age
        key = ("archive", section.slug, page, name)
        page_section = archive.page_section(section, page, count)
        return await self._feed(key, page_section, articles, name, now, age)

    async def _feed(
        self,
        key: Key,
        section: Section,
        articles: Sequence[Article],
        name: str,
        now: datetime,
        max_age: int,
    ) -> Document:
        rendered = await self.pool.render_one(self.context, section, articles, name)
        assert rendered.gzip is not None
        return self._document(
            key,
            rendered.fitted.body,
            FORMATS[name].media_type,
            now,
            max_age,
            gzip=rendered.gzip,
            etag=rendered.etag,
            members=frozenset(a.id for a in articles),
        )

    async def _news(self) -> Document:
        now = self.clock()
        articles = await self.store.recent(now - NEWS_WINDOW, sitemaps.NEWS_MAX_URLS, now=now)
        # The stored record is the API's; the worker needs the typed fields only.
        light = [replace(a, record={}) for a in articles]
        body = await self.pool.call(sitemaps.news_sitemap, self.settings.site_title, light)
        return self._document(
            ("news",),
            body,
            sitemaps.MEDIA_TYPE,
            now,
            self.settings.feed_max_age,
            members=frozenset(a.id for a in articles),
            expires=time.monotonic() + NEWS_TTL,
        )

    async def _index(self) -> Document:
        now = self.clock()
        await self.store.index_changes()
        locations = []
        for section in self.settings.sections:
            count = await self.store.archive_count(section.slug)
            for page in range(1, max(1, -(-count // SITEMAP_PAGE)) + 1):
                locations.append(self.section_sitemap_url(section.slug, page))
        body = sitemaps.sitemap_index(locations)
        return self._document(
            ("index",), body, sitemaps.MEDIA_TYPE, now, self.settings.feed_max_age
        )

    async def _section_sitemap(self, section: Section, page: int) -> Document | None:
        now = self.clock()
        await self.store.index_changes()
        count = await self.store.archive_count(section.slug)
        if not 1 <= page <= max(1, -(-count // SITEMAP_PAGE)):
            return None
        first = (page - 1) * SITEMAP_PAGE + 1
        entries = await self.store.sitemap_urls(
            section.slug, first, first + SITEMAP_PAGE - 1, now=now
        )
        body = await self.pool.call(sitemaps.urlset, entries)
        key = ("sitemap", section.slug, page)
        return self._document(key, body, sitemaps.MEDIA_TYPE, now, self.settings.feed_max_age)

    def section_sitemap_url(self, slug: str, page: int) -> str:
        return f"{self.context.base_url}/sitemaps/sections/{slug}/{page}.xml"

    def _document(
        self,
        key: Key,
        body: bytes,
        media_type: str,
        now: datetime,
        max_age: int,
        *,
        gzip: bytes | None = None,
        etag: str | None = None,
        members: frozenset[str] = frozenset(),
        expires: float | None = None,
    ) -> Document:
        etag = etag or strong_etag(body)
        # Last-Modified: when the render read the store (never after the response's Date);
        # the same bytes rendered again keep the time they were first seen.
        modified = now.astimezone(UTC).replace(microsecond=0)
        known = self._validators.get(key)
        if known is not None and known[0] == etag:
            modified = known[1]
        return Document(
            body=body,
            gzip=gzip if gzip is not None else gzip_bytes(body),
            media_type=media_type,
            etag=etag,
            last_modified=modified,
            last_modified_http=format_datetime(modified, usegmt=True),
            max_age=max_age,
            members=members,
            expires=expires,
        )


def _terms(kind: str, article: Article) -> set[str]:
    if kind == TAG:
        return {tag_key(t) for t in article.tags}
    return {author_slug(a.name) for a in article.authors}
