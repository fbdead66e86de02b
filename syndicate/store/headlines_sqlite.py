"""Public articles by headline on SQLite: what an imported page's "also read" teaser links to.

Reads only, through the expression index on the record's headline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from syndicate.store.base_sqlite import SQLiteMixin

# Teasers per page are a handful; the bound keeps one query within SQLite's variable limit.
MAX_HEADLINES = 100


class SQLiteHeadlines(SQLiteMixin):
    """Mixed into `SQLiteStore`; uses its `reader`."""

    async def public_urls_by_headline(
        self, headlines: Sequence[str], *, now: datetime
    ) -> dict[str, str]:
        wanted = list(dict.fromkeys(headlines))[:MAX_HEADLINES]
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)
        # CROSS JOIN fixes the order (changes by the headline index, then articles by id):
        # left to itself the planner scans every public article. Oldest first, so the
        # newest public article with a headline is the one kept.
        sql = (
            "SELECT json_extract(c.record, '$.headline'), "
            "json_extract(c.record, '$.canonical_url') "
            "FROM changes c CROSS JOIN articles a ON a.id = c.article_id AND a.seq = c.seq "
            f"WHERE json_extract(c.record, '$.headline') IN ({marks}) "
            "AND a.status = 'published' AND a.release_ts <= ? "
            "ORDER BY a.published_ts, a.id"
        )
        async with self.reader.execute(sql, (*wanted, now.timestamp())) as cur:
            rows = await cur.fetchall()
        return {str(headline): str(url) for headline, url in rows}
