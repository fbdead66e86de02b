"""Sitemaps for search engines: the Google News sitemap, section sitemaps, the sitemap index and
robots.txt. Pure functions of their inputs (no clock, no store).

Formats: sitemaps.org 0.9 (`urlset`, `sitemapindex`; at most 50,000 URLs a file) and Google's
News extension (`news:news` with `news:publication` name and language, `news:publication_date`
with its offset, `news:title`; at most 1,000 URLs, the last two days).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lxml import etree

from syndicate.core.model import Article

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
MEDIA_TYPE = "application/xml; charset=utf-8"
MAX_URLS = 50_000
NEWS_MAX_URLS = 1_000

_S = f"{{{SITEMAP_NS}}}"
_N = f"{{{NEWS_NS}}}"
# The sitemap namespace is the default one (lxml-stubs type nsmap keys as str, not None).
_PLAIN: Any = {None: SITEMAP_NS}
_WITH_NEWS: Any = {None: SITEMAP_NS, "news": NEWS_NS}


def news_language(language: str) -> str:
    """The language as Google News wants it: an ISO 639 code, `zh-cn` or `zh-tw` for Chinese.

    `hi-IN` is `hi`; `zh-Hant`, `zh-TW` and `zh-HK` are `zh-tw`; other Chinese is `zh-cn`.
    """
    parts = language.lower().split("-")
    if parts[0] == "zh":
        return "zh-tw" if any(p in ("hant", "tw", "hk", "mo") for p in parts[1:]) else "zh-cn"
    return parts[0]


def _document(root: etree._Element) -> bytes:
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def news_sitemap(publication: str, articles: Sequence[Article]) -> bytes:
    """A Google News sitemap of `articles` (already public, newest first, within the window)."""
    root = etree.Element(f"{_S}urlset", nsmap=_WITH_NEWS)
    for article in articles[:NEWS_MAX_URLS]:
        url = etree.SubElement(root, f"{_S}url")
        etree.SubElement(url, f"{_S}loc").text = article.canonical_url
        news = etree.SubElement(url, f"{_N}news")
        source = etree.SubElement(news, f"{_N}publication")
        etree.SubElement(source, f"{_N}name").text = publication
        etree.SubElement(source, f"{_N}language").text = news_language(article.language)
        # W3C date-time with the article's own offset, as the article states it.
        etree.SubElement(news, f"{_N}publication_date").text = article.published.isoformat()
        etree.SubElement(news, f"{_N}title").text = article.headline
    return _document(root)


def urlset(entries: Sequence[tuple[str, datetime]]) -> bytes:
    """A sitemap of (URL, last modified) pairs (at most `MAX_URLS`: the caller pages them)."""
    root = etree.Element(f"{_S}urlset", nsmap=_PLAIN)
    for loc, modified in entries[:MAX_URLS]:
        url = etree.SubElement(root, f"{_S}url")
        etree.SubElement(url, f"{_S}loc").text = loc
        etree.SubElement(url, f"{_S}lastmod").text = modified.isoformat()
    return _document(root)


def sitemap_index(locations: Sequence[str]) -> bytes:
    """A sitemap index listing `locations` (sitemap URLs)."""
    root = etree.Element(f"{_S}sitemapindex", nsmap=_PLAIN)
    for loc in locations[:MAX_URLS]:
        etree.SubElement(etree.SubElement(root, f"{_S}sitemap"), f"{_S}loc").text = loc
    return _document(root)


def robots_txt(sitemaps: Sequence[str], disallowed: Sequence[str]) -> bytes:
    """robots.txt: every crawler may read the public pages and feeds, not the `disallowed`
    prefixes (APIs, partners, the desk); the sitemaps are named for them."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in disallowed), "Allow: /", ""]
    lines += [f"Sitemap: {url}" for url in sitemaps]
    return ("\n".join(lines) + "\n").encode("utf-8")
