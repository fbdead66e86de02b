"""What an HTML page says about itself: `<title>`, `<link rel="canonical">`, `og:` and
`article:` meta, JSON-LD `NewsArticle`, and its declared language. Reads a parsed tree only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from syndicate.importing.fields import clean_tags, http_url

# JSON-LD types that describe the article itself (schema.org).
_ARTICLE_TYPES = frozenset(
    {
        "NewsArticle",
        "Article",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
    }
)
# A hostile page could carry megabytes of JSON-LD; an article's is a few kilobytes.
MAX_JSON_LD_CHARS = 256 * 1024
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•]\s+")


@dataclass(slots=True)
class PageMeta:
    """The metadata found, each with where it came from."""

    headline: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    published: str | None = None
    updated: str | None = None
    authors: list[dict[str, str]] = field(default_factory=list)
    image: dict[str, Any] | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # field -> where it was read


def _meta(tree: etree._Element) -> dict[str, list[str]]:
    """Every `<meta property|name=… content=…>`, lower-cased keys, in page order."""
    out: dict[str, list[str]] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        content = element.get("content")
        if key and content is not None and content.strip():
            out.setdefault(key.strip().lower(), []).append(content.strip())
    return out


def _json_ld(tree: etree._Element) -> dict[str, Any] | None:
    """The first JSON-LD node typed as an article, looking into lists and `@graph`."""
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = script.text or ""
        if len(text) > MAX_JSON_LD_CHARS:
            continue
        try:
            data = json.loads(text, strict=False)
        except (ValueError, RecursionError):
            continue
        for node in _nodes(data, 0):
            kinds = node.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(isinstance(k, str) and k in _ARTICLE_TYPES for k in kinds):
                return node
    return None


def _nodes(data: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        yield from _nodes(data.get("@graph"), depth + 1)


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value"))
    if isinstance(value, list) and value:
        return _text(value[0])
    return None


def _number(value: Any) -> int | None:
    if isinstance(value, dict):
        value = value.get("value")
    try:
        number = int(str(value).strip().removesuffix("px"))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _authors(value: Any, base: str | None) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for item in value if isinstance(value, list) else [value]:
        name = _text(item)
        if not name or len(name) > 200:
            continue
        author = {"name": name}
        if isinstance(item, dict) and (url := http_url(item.get("url"), base)):
            author["url"] = url
        if author not in out:
            out.append(author)
    return out[:50]


def _image(value: Any, base: str | None) -> dict[str, Any] | None:
    item = value[0] if isinstance(value, list) and value else value
    if isinstance(item, str):
        url = http_url(item, base)
        return {"url": url} if url else None
    if not isinstance(item, dict):
        return None
    url = http_url(item.get("url") or item.get("contentUrl"), base)
    if url is None:
        return None
    image: dict[str, Any] = {"url": url}
    for key in ("width", "height"):
        if (number := _number(item.get(key))) is not None:
            image[key] = number
    if caption := _text(item.get("caption")):
        image["caption"] = caption[:2000]
    return image


def read_meta(tree: etree._Element) -> PageMeta:
    """Everything the page declares about the article, JSON-LD first, then meta tags."""
    meta = _meta(tree)
    ld = _json_ld(tree) or {}
    out = PageMeta()

    def first(*keys: str) -> str | None:
        for key in keys:
            if values := meta.get(key):
                return values[0]
        return None

    canonical = None
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split():
            canonical = http_url(link.get("href"))
            break
    ld_url = ld.get("url") or ld.get("mainEntityOfPage")
    if isinstance(ld_url, dict):
        ld_url = ld_url.get("@id")
    for value, where in (
        (canonical, '<link rel="canonical">'),
        (http_url(first("og:url")), "og:url"),
        (http_url(ld_url), "JSON-LD url"),
    ):
        if value:
            out.canonical_url, out.sources["canonical_url"] = value, where
            break
    base = out.canonical_url

    title_tag = next((t.text for t in tree.iter("title")), None)
    for value, where in (
        (_text(ld.get("headline")), "JSON-LD headline"),
        (_text(first("og:title", "twitter:title")), "og:title"),
        (_clean_title(title_tag, first("og:site_name")), "<title>"),
    ):
        if value:
            out.headline, out.sources["headline"] = value, where
            break
    for value, where in (
        (_text(ld.get("description")), "JSON-LD description"),
        (_text(first("og:description", "description", "twitter:description")), "meta description"),
    ):
        if value:
            out.description, out.sources["summary"] = value, where
            break
    for name, ld_key, meta_keys in (
        ("published", "datePublished", ("article:published_time", "datepublished", "date")),
        ("updated", "dateModified", ("article:modified_time", "og:updated_time", "datemodified")),
    ):
        if value := _text(ld.get(ld_key)):
            setattr(out, name, value)
            out.sources[name] = f"JSON-LD {ld_key}"
        elif value := first(*meta_keys):
            setattr(out, name, value)
            out.sources[name] = "meta " + next(k for k in meta_keys if k in meta)
    if authors := _authors(ld.get("author"), base):
        out.authors, out.sources["authors"] = authors, "JSON-LD author"
    elif (byline := first("author", "article:author")) and http_url(byline) is None:
        # article:author is often a profile URL, not a name: only a name is an author.
        out.authors, out.sources["authors"] = _authors(byline, base), "meta author"
    if image := _image(ld.get("image"), base):
        out.image, out.sources["image"] = image, "JSON-LD image"
    elif url := http_url(first("og:image", "og:image:url", "twitter:image"), base):
        out.image, out.sources["image"] = {"url": url}, "og:image"
        for key in ("width", "height"):
            if (number := _number(first(f"og:image:{key}"))) is not None:
                out.image[key] = number
        if (kind := first("og:image:type")) and kind.startswith("image/"):
            out.image["mime_type"] = kind
    html_lang = tree.get("lang") if tree.tag == "html" else None
    for value, where in (
        (_text(ld.get("inLanguage")), "JSON-LD inLanguage"),
        (html_lang, "<html lang>"),
        (first("og:locale", "content-language", "language"), "og:locale"),
    ):
        if value and value.strip():
            out.language, out.sources["language"] = value.strip(), where
            break
    keywords = ld.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    out.tags = clean_tags([*meta.get("article:tag", []), *(keywords or [])])
    section = ld.get("articleSection")
    out.sections = [
        s
        for s in [*(section if isinstance(section, list) else [section]), first("article:section")]
        if isinstance(s, str) and s.strip()
    ]
    return out


def _clean_title(title: str | None, site_name: str | None) -> str | None:
    """`<title>` without the site's name: "Headline | Site" -> "Headline"."""
    text = _text(title)
    if not text:
        return None
    separators = list(_TITLE_SEPARATORS.finditer(text))
    if separators:
        last = separators[-1]
        if site_name is None or text[last.end() :].casefold() == site_name.casefold():
            return text[: last.start()]
    return text
