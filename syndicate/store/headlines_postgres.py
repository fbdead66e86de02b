"""Public articles by headline on PostgreSQL: what an imported page's "also read" teaser
links to. Reads only; through the expression index on the record's headline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from syndicate.store.base_postgres import PostgresMixin
from syndicate.store.headlines_sqlite import MAX_HEADLINES


class PostgresHeadlines(PostgresMixin):
    """Mixed into `PostgresStore`; uses its `_fetch`."""

    async def public_urls_by_headline(
        self, headlines: Sequence[str], *, now: datetime
    ) -> dict[str, str]:
        # PostgreSQL text cannot hold NUL; no stored headline has one.
        wanted = [h for h in dict.fromkeys(headlines) if "\x00" not in h][:MAX_HEADLINES]
        if not wanted:
            return {}
        # The expression is spelled exactly as in the index so the planner can use it.
        rows = await self._fetch(
            "SELECT (c.record::jsonb ->> 'headline') AS headline, "
            "(c.record::jsonb ->> 'canonical_url') AS url "
            "FROM changes c JOIN articles a ON a.id = c.article_id AND a.seq = c.seq "
            "WHERE (c.record::jsonb ->> 'headline') = ANY($1::text[]) "
            "AND a.status = 'published' AND a.release_at <= $2 "
            "ORDER BY a.published, a.id",
            wanted,
            now,
        )
        return {r["headline"]: r["url"] for r in rows}
