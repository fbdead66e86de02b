"""A scraped article page (plain text or HTML) turned into the parts of an article record.

HTML: the main text by trafilatura, the metadata from the page itself (`htmlmeta`), teasers
taken out before trafilatura can judge them link farms. Plain text: blank lines part the
blocks. Both then go through the same rules (`blocks.sort_blocks`). No store, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import lxml.html
from lxml import etree

from syndicate.importing.blocks import (
    Block,
    Dropped,
    Teaser,
    comparable,
    could_be_teaser,
    sort_blocks,
    teaser,
)
from syndicate.importing.fields import (
    MAX_TITLE_CHARS,
    bounded_summary,
    http_url,
    parse_date,
    squash_html_text,
)
from syndicate.importing.htmlmeta import PageMeta, read_meta

MAX_PAGE_BYTES = 5 * 1024 * 1024
PageKind = Literal["text", "html"]
# Where an "also read" teaser may stand in a page, as the innermost block holding it.
_TEASER_HOLDERS = ("p", "li", "div", "h2", "h3", "h4", "h5", "h6", "strong", "span", "aside")
_BLOCK_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "table", "pre", "figure"}
)
_HTML_START = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body|<meta|<article|<!--)", re.I)


@dataclass(slots=True)
class PageExtract:
    """What a page gave: the record's fields, what was dropped and why, and hints."""

    kind: PageKind
    headline: str | None = None
    summary: str | None = None
    body: list[Block] = field(default_factory=list)
    teasers: list[Teaser] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    section_hints: list[str] = field(default_factory=list)  # declared slugs the page names
    declared_sections: list[str] = field(default_factory=list)  # names as the page gives them
    declared_language: str | None = None
    canonical_url: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    authors: list[dict[str, str]] = field(default_factory=list)
    image: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def body_html(self) -> str:
        return "\n".join(block.html for block in self.body)

    @property
    def text(self) -> str:
        """The story's text, for language detection."""
        return " ".join([self.headline or "", self.summary or "", *(b.text for b in self.body)])

    def problem(self) -> str | None:
        """Why this page cannot become an article, or None."""
        if not self.headline:
            return "no headline could be extracted from the page"
        if len(self.headline) > MAX_TITLE_CHARS:
            return (
                f"no headline could be extracted: the first block is {len(self.headline)} "
                f"characters long, a headline at most {MAX_TITLE_CHARS}"
            )
        if not self.body:
            return "no body text could be extracted from the page"
        return None


def page_kind(data: bytes, name: str = "", media_type: str | None = None) -> PageKind:
    """HTML or plain text: by media type, else by file name, else by the first bytes."""
    if media_type:
        return "html" if media_type in ("text/html", "application/xhtml+xml") else "text"
    if name.lower().endswith((".html", ".htm", ".xhtml", ".shtml")):
        return "html"
    if name.lower().endswith(".txt"):
        return "text"
    return "html" if _HTML_START.match(data[:1024].lstrip(b"\xef\xbb\xbf")) else "text"


def decode(data: bytes, charset: str | None = None) -> str:
    """The page's text: the charset given, else a BOM or the page's own, else detected."""
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    from trafilatura.utils import decode_file

    text: str = decode_file(data)
    return text.removeprefix("\ufeff")


def extract_page(
    text: str, kind: PageKind, sections: Sequence[tuple[str, Iterable[str]]]
) -> PageExtract:
    """The article in a page. `sections` is (slug, names) for every declared section."""
    if kind == "text":
        return _from_text(text, sections)
    return _from_html(text, sections)


def _from_text(text: str, sections: Sequence[tuple[str, Iterable[str]]]) -> PageExtract:
    # Text is kept as written (no-break spaces included); a block's lines are joined.
    chunks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [" ".join(ln.strip() for ln in c.splitlines() if ln.strip()) for c in chunks]
    blocks = [Block.paragraph(line) for line in lines if line]
    found = sort_blocks(blocks, sections)
    out = PageExtract("text", found.headline, found.summary, found.body, found.teasers)
    out.dropped, out.section_hints = found.dropped, found.section_hints
    return out


def _from_html(text: str, sections: Sequence[tuple[str, Iterable[str]]]) -> PageExtract:
    try:
        tree = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return PageExtract("html", notes=["the page could not be parsed as HTML"])
    meta = read_meta(tree)
    out = PageExtract("html")
    _apply_meta(out, meta, sections)
    # Teasers first: trafilatura drops link-heavy paragraphs as boilerplate, links and all.
    early = _take_teasers(tree, meta.canonical_url)
    h1 = next((squash_html_text(h) for h in tree.iter("h1")), None)
    headline = meta.headline or h1
    if h1 and headline and comparable(h1) != comparable(headline):
        out.notes.append(f"the page's <h1> differs from its {meta.sources['headline']}")
    blocks = _main_blocks(tree, meta.canonical_url)
    if not headline:  # an HTML page names its headline; a paragraph is never taken for it
        out.body, out.teasers = blocks, early
        return out
    found = sort_blocks(blocks, sections, headline=headline, summary=meta.description)
    out.headline, out.summary, out.body = found.headline, found.summary, found.body
    out.teasers = early + found.teasers
    out.dropped = [Dropped(t.title, "an 'also read' teaser (kept as related)") for t in early]
    out.dropped += found.dropped
    out.section_hints += [s for s in found.section_hints if s not in out.section_hints]
    if out.summary is not None:
        out.summary, note = bounded_summary(out.summary)
        if note:
            out.notes.append(note)
    return out


def _apply_meta(
    out: PageExtract, meta: PageMeta, sections: Sequence[tuple[str, Iterable[str]]]
) -> None:
    out.canonical_url = meta.canonical_url
    out.authors, out.image, out.tags = meta.authors, meta.image, meta.tags
    out.declared_language, out.declared_sections = meta.language, meta.sections
    out.sources = dict(meta.sources)
    for name in ("published", "updated"):
        when, note = parse_date(getattr(meta, name))
        setattr(out, name, when)
        if note:
            out.notes.append(f"{name}: {note}")
    if out.published and out.updated and out.updated < out.published:
        out.notes.append("updated: before published on the page, left out")
        out.updated = None
    names = {comparable(n): slug for slug, all_names in sections for n in all_names}
    for declared in meta.sections:
        slug = names.get(comparable(declared))
        if slug and slug not in out.section_hints:
            out.section_hints.append(slug)


def _take_teasers(tree: etree._Element, base: str | None) -> list[Teaser]:
    """Remove each "also read" teaser from the page (its innermost holder); in page order."""
    found: list[tuple[lxml.html.HtmlElement, Teaser]] = []
    for element in tree.iter(*_TEASER_HOLDERS):
        got = _teaser_of(element)
        if got is None:
            continue
        if any(_teaser_of(inner) for inner in element.iterdescendants(*_TEASER_HOLDERS)):
            continue  # an element inside holds it
        # A relative link resolves against the page's URL; without one it cannot be kept.
        found.append((element, Teaser(got.title, http_url(got.url, base))))
    for element, _ in found:
        element.drop_tree()  # its tail text stays in the page
    return [t for _, t in found]


def _teaser_of(element: etree._Element) -> Teaser | None:
    text = squash_html_text(element)
    if len(text) > 400 or not could_be_teaser(text):
        return None
    links = tuple(
        (a.get("href") or "", squash_html_text(a)) for a in element.iter("a") if a.get("href")
    )
    return teaser(Block(str(element.tag), text, "", links))


def _block(element: etree._Element) -> Block:
    links = tuple(
        (a.get("href") or "", squash_html_text(a)) for a in element.iter("a") if a.get("href")
    )
    html = lxml.html.tostring(element, encoding="unicode", with_tail=False)
    return Block(str(element.tag), squash_html_text(element), html, links)


def _main_blocks(tree: etree._Element, url: str | None) -> list[Block]:
    import trafilatura

    extracted = trafilatura.extract(
        lxml.html.tostring(tree, encoding="unicode"),
        url=url,
        output_format="html",
        include_links=True,
        include_formatting=True,
        include_tables=True,
        include_images=False,
        include_comments=False,
        deduplicate=False,
    )
    if not extracted:
        return []
    body = lxml.html.document_fromstring(extracted).find("body")
    if body is None:
        return []
    blocks: list[Block] = []
    for element in body:
        if not isinstance(element.tag, str):
            continue
        for a in element.iter("a"):
            href = http_url(a.get("href"), url)
            if href is None:
                a.drop_tag()  # type: ignore[attr-defined]
            else:
                a.set("href", href)
        block = _block(element)
        if not block.text:
            continue
        if element.tag not in _BLOCK_TAGS:
            block = Block.paragraph(block.text)
        blocks.append(block)
    return blocks
