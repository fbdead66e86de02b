"""IPTC ninjs 2.2 (News in JSON) for partners: one object per article, a list for pulls.

Pure functions; only properties ninjs 2.2 defines (its schema rejects any other). The list
wrapper `{"items": [...], "next_cursor": ...}` is ours, not part of ninjs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from syndicate.core.model import Article, Change, Notice, PubStatus
from syndicate.render.partner import (
    PartnerContext,
    embargo_time,
    first_created,
    iso_time,
    item_guid,
    partner_items,
    pub_status,
    version_created,
)

__all__ = ["NINJS_SCHEMA_URI", "render_ninjs_item", "render_ninjs_list"]

NINJS_SCHEMA_URI: Final = "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json#"
MEDIATOPIC_URI: Final = "http://cv.iptc.org/newscodes/mediatopic/"


def _subject(qcode: str) -> dict[str, Any]:
    scheme, _, code = qcode.partition(":")
    if scheme == "medtop" and code:
        return {"uri": MEDIATOPIC_URI + code, "literal": qcode}
    return {"literal": qcode}


def _feature_image(article: Article) -> dict[str, Any] | None:
    image = article.image
    if image is None:
        return None
    rendition: dict[str, Any] = {"name": "original", "href": image.url}
    if image.mime_type:
        rendition["contenttype"] = image.mime_type
    if image.width is not None:
        rendition["width"] = image.width
    if image.height is not None:
        rendition["height"] = image.height
    if image.length is not None:
        rendition["sizeinbytes"] = image.length
    picture: dict[str, Any] = {"name": "featureimage", "uri": image.url, "type": "picture"}
    if image.caption:
        picture["descriptions"] = [{"role": "caption", "value": image.caption}]
    if image.credit:
        picture["by"] = image.credit
    picture["renditions"] = [rendition]
    return picture


def render_ninjs_item(
    ctx: PartnerContext,
    article: Article,
    *,
    held: bool = False,
    pubstatus: PubStatus | None = None,
) -> dict[str, Any]:
    """One article as a ninjs 2.2 object (a plain dict, ready for `json.dumps`).

    `held` marks an item a partner receives before its release (`embargoed` is then the
    release time even without `embargo_until`); see `partner.embargo_time`. `pubstatus` is
    the delivery rule's word (`withheld`, `canceled`…); by default the article's own status.
    """
    item: dict[str, Any] = {
        "uri": item_guid(ctx, article),
        "standard": {"name": "ninjs", "version": "2.2", "schema": NINJS_SCHEMA_URI},
        "type": "text",
        "representationtype": "full",
        "version": str(article.version),
        "firstcreated": iso_time(first_created(article)),
        "versioncreated": iso_time(version_created(article)),
        "contentcreated": iso_time(article.published),
    }
    embargo = embargo_time(article, held=held)
    if embargo is not None:
        item["embargoed"] = iso_time(embargo)
    item["pubstatus"] = pubstatus or pub_status(article)
    if article.urgency is not None:
        item["urgency"] = article.urgency
    if article.rights is not None:
        if article.rights.holder:
            item["copyrightholder"] = article.rights.holder
        if article.rights.usage_terms:
            item["usageterms"] = article.rights.usage_terms
    if article.editorial_note:
        item["ednote"] = article.editorial_note
    item["language"] = article.language
    item["headlines"] = [{"role": "main", "value": article.headline}]
    if article.summary:
        item["descriptions"] = [
            {"role": "summary", "contenttype": "text/plain", "value": article.summary}
        ]
    item["bodies"] = [{"role": "main", "contenttype": "text/html", "value": article.body_html}]
    if article.authors:
        item["by"] = ", ".join(a.name for a in article.authors)
    item["slugline"] = article.tags[0] if article.tags else article.id
    if article.subjects:
        item["subjects"] = [_subject(q) for q in article.subjects]
    # The web page is a rendition of the story (nar:remoteContent in NewsML-G2 terms).
    item["renditions"] = [
        {"name": "web", "href": article.canonical_url, "contenttype": "text/html"}
    ]
    associations = []
    picture = _feature_image(article)
    if picture is not None:
        associations.append(picture)
    # An association needs a `uri`: a story named without a link has none to give.
    linked = [related for related in article.related if related.url is not None]
    for number, related in enumerate(linked, start=1):
        story: dict[str, Any] = {"name": f"related{number}", "uri": related.url, "type": "text"}
        if related.title:
            story["headlines"] = [{"value": related.title}]
        associations.append(story)
    if associations:
        item["associations"] = associations
    item["altids"] = [{"role": "id", "value": article.id}]
    return item


def render_ninjs_list(
    ctx: PartnerContext,
    items: Sequence[Article | Change | Notice],
    *,
    now: datetime,
    next_cursor: str | None,
    embargoed_view: bool,
) -> bytes:
    """A section pull: `{"items": [ninjs…], "next_cursor": "…"}` as UTF-8 JSON (not escaped).

    Held changes need `embargoed_view`, else `EmbargoLeak`; an empty pull is `"items": []`.
    """
    rendered = [
        render_ninjs_item(ctx, article, held=held, pubstatus=status)
        for article, held, status in partner_items(items, embargoed_view=embargoed_view, now=now)
    ]
    document = {"items": rendered, "next_cursor": next_cursor}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
