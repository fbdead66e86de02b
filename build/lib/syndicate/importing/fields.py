"""Field helpers every importer shares: dates in the forms pages and feeds write them, URLs,
plain text from HTML, bounded summaries, tags, and the stable ids of imported articles."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html

MAX_SUMMARY_CHARS = 2000
MAX_TAG_CHARS = 100
MAX_TAGS = 100
MAX_TITLE_CHARS = 300
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: Any) -> tuple[datetime | None, str | None]:
    """(an aware datetime, a note) from RFC 3339 / ISO 8601 or RFC 822 text.

    A time without an offset is taken as UTC and a date alone as midnight UTC, each with a
    note saying so; text that is no date gives (None, why).
    """
    if not isinstance(value, str) or not value.strip():
        return None, None
    text = value.strip()
    note = None
    try:
        if _DATE_ONLY.fullmatch(text):
            return datetime.fromisoformat(text).replace(
                tzinfo=UTC
            ), f"{text}: a date alone, taken as midnight UTC"
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None, f"{text!r} is not a date this importer reads"
    if when.tzinfo is None:
        when, note = when.replace(tzinfo=UTC), f"{text}: no offset, taken as UTC"
    if not 1 <= when.astimezone(UTC).year <= 9999:
        return None, f"{text!r} is outside years 1-9999"
    return when, note


def rfc3339(when: datetime) -> str:
    """The record's form: RFC 3339 with the source's own offset, whole seconds."""
    return when.replace(microsecond=0).isoformat()


def http_url(value: Any, base: str | None = None) -> str | None:
    """An absolute http(s) URL (relative ones resolved against `base`), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    url = value.strip()
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    # Spaces and quotes are not allowed raw in a record's URL: percent-encode them.
    return re.sub(r'[\s"<>\\^`{|}]', lambda m: f"%{ord(m.group()):02X}", url)


def text_of(markup: str | None) -> str:
    """The visible text of an HTML fragment (or of plain text), whitespace collapsed."""
    if not markup or not markup.strip():
        return ""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    try:
        fragment = lxml.html.fragment_fromstring(markup, create_parent="div")
    except Exception:  # lxml raises several kinds on hostile input; the text is what we want
        return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", markup)).split())
    return " ".join(fragment.text_content().split())


def squash_html_text(element: lxml.html.HtmlElement) -> str:
    """An element's visible text, whitespace collapsed."""
    return " ".join(element.text_content().split())


def bounded_summary(text: str) -> tuple[str, str | None]:
    """The summary within the record's 2,000 characters: cut at a word, with a note."""
    if len(text) <= MAX_SUMMARY_CHARS:
        return text, None
    cut = text[: MAX_SUMMARY_CHARS - 1].rsplit(" ", 1)[0]
    return cut + "…", f"summary cut from {len(text)} to {len(cut) + 1} characters"


def clean_tags(values: Iterable[Any]) -> list[str]:
    """Free keywords: text, at most 100 characters each and 100 in all, no repeats."""
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        if not isinstance(value, str):
            continue
        tag = " ".join(value.split())[:MAX_TAG_CHARS]
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            out.append(tag)
    return out[:MAX_TAGS]


def paragraphs_html(text: str) -> str:
    """Plain text as HTML paragraphs: blank lines part them, single newlines become `<br>`."""
    chunks = [c.strip() for c in re.split(r"\n\s*\n", text) if c.strip()]
    return "\n".join(
        "<p>"
        + "<br>".join(html.escape(line.strip(), quote=False) for line in c.splitlines())
        + "</p>"
        for c in chunks
    )


def stable_id(kind: str, key: str, readable: str | None = None) -> str:
    """An article id that is the same whenever the same page or item is imported.

    `{slug}-{hash}`: the slug is the URL's last path segment when it is readable ASCII
    (else `kind`), the hash 64 bits of SHA-256 of `key`, so different keys never meet.
    """
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    slug = kind
    if readable:
        try:
            parts = urlsplit(readable)
        except ValueError:
            parts = urlsplit("")
        segment = ""
        if parts.scheme.lower() in ("http", "https"):
            segment = parts.path.rstrip("/").rsplit("/", 1)[-1]
        segment = re.sub(r"\.(?:html?|php|aspx?)$", "", segment)
        if _SLUG.fullmatch(segment):
            slug = segment
    return f"{slug}-{digest}"
