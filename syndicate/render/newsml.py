"""NewsML-G2 2.35 (Power) for partners: one `newsItem` per article, `newsMessage` for pulls.

Pure functions over `Article`/`Change` -> UTF-8 bytes (text byte-exact, never numeric
entities). No store, no clock, no HTTP. Element order follows the XSD sequences exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Final, cast

import lxml.html
from lxml import etree

from syndicate.core.model import Article, Change, Notice, PubStatus
from syndicate.render.partner import (
    PartnerContext,
    embargo_time,
    first_created,
    iso_time,
    item_guid,
    partner_items,
    version_created,
)

__all__ = [
    "IPTC_CATALOG",
    "QCODE_SCHEMES",
    "PartnerContext",
    "body_as_xhtml",
    "render_news_item",
    "render_news_message",
]

NAR: Final = "http://iptc.org/std/nar/2006-10-01/"
XHTML: Final = "http://www.w3.org/1999/xhtml"
XML_LANG: Final = "{http://www.w3.org/XML/1998/namespace}lang"
# The IPTC catalog declaring every scheme alias below. The shipped IPTC examples still point
# at _32 (unchanged since 2018); _38 is the current one (IPTC's own NewsML-G2 library uses it).
IPTC_CATALOG: Final = "http://www.iptc.org/std/catalog/catalog.IPTC-G2-Standards_38.xml"
# Every QCode scheme alias we emit; a test checks each is declared by the IPTC catalog.
QCODE_SCHEMES: Final = frozenset({"ninat", "stat", "sig", "medtop", "cpnat", "drol", "irel"})

# lxml-stubs types nsmap keys as `str`; `None` (the default namespace) is what lxml expects.
_NAR_NSMAP: Final = cast("dict[str, str]", {None: NAR})
_XHTML_NSMAP: Final = cast("dict[str, str]", {None: XHTML})
_N: Final = f"{{{NAR}}}"
_H: Final = f"{{{XHTML}}}"
# Editorial notes that announce a correction (English and Hindi) add `sig:correction`.
_CORRECTION = re.compile(r"\bcorrect|सुधार", re.IGNORECASE)
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")


def _sub(
    parent: etree._Element, name: str, text: str | None = None, **attrs: str
) -> etree._Element:
    element = etree.SubElement(parent, _N + name, attrs)
    if text is not None:
        element.text = text
    return element


def body_as_xhtml(body_html: str, headline: str) -> etree._Element:
    """The sanitised HTML body as one well-formed XHTML document element (`html`).

    lxml's HTML parser repairs `<br>`, `&nbsp;`, unclosed tags; we then move the nodes into the
    XHTML namespace, unwrapping elements and dropping attributes that XML cannot name.
    """
    html = etree.Element(_H + "html", nsmap=_XHTML_NSMAP)
    head = etree.SubElement(html, _H + "head")
    etree.SubElement(head, _H + "title").text = headline
    body = etree.SubElement(html, _H + "body")
    if not body_html.strip():
        return html
    fragment = lxml.html.fragment_fromstring(body_html, create_parent="div")
    body.text = fragment.text
    body.extend(list(fragment))
    for element in list(body.iterdescendants()):
        if not isinstance(element.tag, str):  # comments, processing instructions
            _remove_keeping_tail(element)
        elif not _NCNAME.match(element.tag):  # e.g. Word's `o:p`: keep the content
            _unwrap(element)
        else:
            element.tag = _H + element.tag
            for name in [n for n in element.attrib if not _NCNAME.match(str(n))]:
                del element.attrib[name]
    return html


def _previous_text_holder(element: etree._Element) -> tuple[etree._Element, bool]:
    """Where text just before `element` lives: (node, is_tail)."""
    previous = element.getprevious()
    if previous is not None:
        return previous, True
    parent = element.getparent()
    assert parent is not None
    return parent, False


def _add_text_before(element: etree._Element, text: str | None) -> None:
    if not text:
        return
    holder, is_tail = _previous_text_holder(element)
    if is_tail:
        holder.tail = (holder.tail or "") + text
    else:
        holder.text = (holder.text or "") + text


def _remove_keeping_tail(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    _add_text_before(element, element.tail)
    parent.remove(element)


def _unwrap(element: etree._Element) -> None:
    """Replace an element by its content: text, children, then tail, in document order."""
    parent = element.getparent()
    if parent is None:
        return
    _add_text_before(element, element.text)
    for child in list(element):
        element.addprevious(child)
    _remove_keeping_tail(element)


def _item_meta(
    item: etree._Element, ctx: PartnerContext, article: Article, held: bool, status: PubStatus
) -> None:
    meta = _sub(item, "itemMeta")
    _sub(meta, "itemClass", qcode="ninat:text")
    _sub(_sub(meta, "provider", literal=ctx.provider), "name", ctx.display_name)
    _sub(meta, "versionCreated", iso_time(version_created(article)))
    # XSD order: firstCreated, embargoed, pubStatus (a well-known formatter swaps them).
    _sub(meta, "firstCreated", iso_time(first_created(article)))
    embargo = embargo_time(article, held=held)
    if embargo is not None:
        _sub(meta, "embargoed", iso_time(embargo))
    _sub(meta, "pubStatus", qcode=f"stat:{status}")
    if article.editorial_note:
        _sub(meta, "edNote", article.editorial_note)
    if article.version > 1:
        _sub(meta, "signal", qcode="sig:update")
        if article.editorial_note and _CORRECTION.search(article.editorial_note):
            _sub(meta, "signal", qcode="sig:correction")
    for related in article.related:
        if related.url is None:  # named without a link: `link` needs something to point at
            continue
        link = _sub(meta, "link", rel="irel:seeAlso", href=related.url)
        if related.title:
            link.set("title", related.title)


def _content_meta(item: etree._Element, article: Article) -> None:
    meta = _sub(item, "contentMeta")
    image = article.image
    if image is not None:
        # The feature picture: `icon` ("iconic visual identification of the content") keeps
        # contentSet for renditions of the text itself, and carries href/type/size.
        icon = _sub(meta, "icon", href=image.url)
        if image.mime_type:
            icon.set("contenttype", image.mime_type)
        if image.width is not None:
            icon.set("width", str(image.width))
        if image.height is not None:
            icon.set("height", str(image.height))
        if image.caption:
            icon.set("title", image.caption)
    if article.urgency is not None:
        _sub(meta, "urgency", str(article.urgency))
    _sub(meta, "contentCreated", iso_time(article.published))
    if article.updated is not None:
        _sub(meta, "contentModified", iso_time(article.updated))
    for author in article.authors:
        creator = _sub(meta, "creator")
        if author.url:
            creator.set("uri", author.url)
        _sub(creator, "name", author.name)
    _sub(meta, "language", tag=article.language)
    for tag in article.tags:
        _sub(meta, "keyword", tag)
    for qcode in article.subjects:
        if qcode.partition(":")[0] == "medtop":
            _sub(meta, "subject", type="cpnat:abstract", qcode=qcode)
    _sub(meta, "slugline", article.tags[0] if article.tags else article.id)
    _sub(meta, "headline", article.headline)
    if article.authors:
        _sub(meta, "by", ", ".join(a.name for a in article.authors))
    if article.summary:
        _sub(meta, "description", article.summary, role="drol:summary")


def _news_item(
    parent: etree._Element | None,
    ctx: PartnerContext,
    article: Article,
    held: bool,
    status: PubStatus,
) -> etree._Element:
    attrs = {
        "guid": item_guid(ctx, article),
        "version": str(article.version),
        "standard": "NewsML-G2",
        "standardversion": "2.35",
        "conformance": "power",
        XML_LANG: article.language,
    }
    if parent is None:
        item = etree.Element(_N + "newsItem", attrs, nsmap=_NAR_NSMAP)
    else:
        item = etree.SubElement(parent, _N + "newsItem", attrs)
    _sub(item, "catalogRef", href=IPTC_CATALOG)
    rights = article.rights
    if rights is not None and (rights.holder or rights.usage_terms):
        info = _sub(item, "rightsInfo")
        if rights.holder:
            _sub(_sub(info, "copyrightHolder"), "name", rights.holder)
        if rights.usage_terms:
            _sub(info, "usageTerms", rights.usage_terms)
    _item_meta(item, ctx, article, held, status)
    _content_meta(item, article)
    content = _sub(_sub(item, "contentSet"), "inlineXML", contenttype="application/xhtml+xml")
    content.append(body_as_xhtml(article.body_html, article.headline))
    return item


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def render_news_item(
    ctx: PartnerContext,
    item: Article | Notice,
    *,
    embargoed_view: bool,
    now: datetime | None = None,
) -> bytes:
    """One standalone `newsItem` document, its `version` the record's version.

    With `now`, an article still held back at `now` raises `EmbargoLeak` unless
    `embargoed_view`, and is marked `embargoed` with its release time. Without `now` the
    caller vouches that the article is public (or that the partner may see it).
    """
    ((shown, held, status),) = partner_items([item], embargoed_view=embargoed_view, now=now)
    return _serialise(_news_item(None, ctx, shown, held, status))


def render_news_message(
    ctx: PartnerContext,
    items: Sequence[Article | Change | Notice],
    *,
    sent: datetime,
    transmit_id: str,
    next_cursor: str | None,
    embargoed_view: bool,
    destination: str | None = None,
) -> bytes:
    """A `newsMessage` carrying `items` (oldest first, as given) for one partner pull.

    The header holds `sent`, `sender`/`origin` (our provider), `transmitId`, an optional
    `destination`, and the cursor for the next pull as
    `<headerExtProperty reluri="{base_url}/partners/concepts/next-cursor" value="…"/>`.
    `items` must not be empty (an `itemSet` cannot be; answer 204 instead). Held changes
    (`Change.held`; a bare `Article` released after `sent`) need `embargoed_view`, else
    `EmbargoLeak`.
    """
    if not items:
        raise ValueError("a newsMessage needs at least one item (answer 204 instead)")
    message = etree.Element(_N + "newsMessage", nsmap=_NAR_NSMAP)
    header = _sub(message, "header")
    _sub(header, "sent", iso_time(sent))
    _sub(header, "sender", ctx.provider)
    _sub(header, "transmitId", transmit_id)
    _sub(header, "origin", ctx.provider)
    if destination:
        _sub(header, "destination", destination)
    if next_cursor is not None:
        _sub(header, "headerExtProperty", reluri=ctx.next_cursor_rel, value=next_cursor)
    item_set = _sub(message, "itemSet")
    for article, held, status in partner_items(items, embargoed_view=embargoed_view, now=sent):
        _news_item(item_set, ctx, article, held, status)
    return _serialise(message)
