"""Partner renderers against the official IPTC schemas, plus what the schemas cannot check.

NewsML-G2 items and messages are validated with the 2.35 Power XSD; ninjs with the 2.2 JSON
Schema. XPath then checks offsets on every datetime, versions, guid stability, the itemMeta
order, byte-exact text and the QCode schemes we use.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from syndicate.core.config import settings_from_mapping
from syndicate.core.model import Article, Change
from syndicate.render.newsml import (
    IPTC_CATALOG,
    QCODE_SCHEMES,
    PartnerContext,
    render_news_item,
    render_news_message,
)
from syndicate.render.ninjs import render_ninjs_item, render_ninjs_list
from syndicate.render.partner import EmbargoLeak
from tests.helpers.iptc import newsml_errors, ninjs_errors, parse_xml, require_conformance
from tests.helpers.partner_articles import (
    BASE_RECORD,
    CTX,
    EMBARGOED_RECORD,
    FULL_RECORD,
    MESSY_RECORD,
    NOW,
    SEED_RECORD,
    T0,
    corrected_article,
    every_kind_of_article,
    make_article,
    withdrawn_article,
)
from tests.helpers.partners import NS
from tests.helpers.texts import (
    ARABIC_HEADLINE,
    EMOJI_HEADLINE,
    SEED_ALSO_READ,
    SEED_HEADLINE,
    SEED_PARA_2,
    SEED_SUMMARY,
)

# Scheme aliases declared by the IPTC G2 catalog (catalog.IPTC-G2-Standards_3x.xml); the
# catalog is not on disk, so this is the known subset, copied from IPTC's catalog and examples.
IPTC_CATALOG_ALIASES = frozenset(
    {
        "ninat", "stat", "sig", "medtop", "subj", "cpnat", "cptype", "drol", "irel", "crol",
        "ctrol", "genre", "rnd", "nprov", "colsp", "loutorient", "iso3166-1a2", "iso3166-1a3",
        "howextr", "isrol", "urgency", "prod",
    }
)  # fmt: skip
OFFSET = re.compile(r"(Z|[+-]\d\d:\d\d)$")
DATETIME_ELEMENTS = (
    "sent",
    "versionCreated",
    "firstCreated",
    "embargoed",
    "contentCreated",
    "contentModified",
)

conformance = pytest.mark.conformance
ARTICLES = every_kind_of_article()


def item_doc(article: Article, **kwargs: Any) -> etree._Element:
    return parse_xml(render_news_item(CTX, article, embargoed_view=True, **kwargs))


def one(root: etree._Element, path: str) -> etree._Element:
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list) and len(found) == 1, (path, found)
    element = found[0]
    assert isinstance(element, etree._Element)
    return element


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(t) for t in root.xpath(path, namespaces=NS)]  # type: ignore[union-attr]


def count(root: etree._Element, path: str) -> int:
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return len(found)


def message_of(items: list[Article | Change], **kwargs: Any) -> bytes:
    options: dict[str, Any] = {
        "sent": NOW,
        "transmit_id": "pull-1",
        "next_cursor": "djEuNDIuYjkwOWI0MmI",
        "embargoed_view": True,
    }
    options.update(kwargs)
    return render_news_message(CTX, items, **options)


# -- schema validity --------------------------------------------------------------------


@conformance
@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: a.id)
def test_every_news_item_validates_against_the_xsd(article: Article) -> None:
    assert newsml_errors(render_news_item(CTX, article, embargoed_view=True)) == []


@conformance
def test_news_message_with_many_items_validates() -> None:
    items: list[Article | Change] = []
    for n in range(60):
        article = ARTICLES[n % len(ARTICLES)]
        items.append(Change(seq=n + 1, kind="updated", article=article, held=False))
    items.append(make_article({**BASE_RECORD, "id": "plain-article"}))
    data = message_of(items, destination="partner-acme")
    assert newsml_errors(data) == []
    root = parse_xml(data)
    assert count(root, "/g:newsMessage/g:itemSet/g:newsItem") == 61
    assert texts(root, "/g:newsMessage/g:header/g:transmitId/text()") == ["pull-1"]
    assert texts(root, "/g:newsMessage/g:header/g:origin/text()") == [CTX.provider]
    assert texts(root, "/g:newsMessage/g:header/g:destination/text()") == ["partner-acme"]


@conformance
def test_the_xsd_check_is_live_it_rejects_embargoed_after_pub_status() -> None:
    # The order one well-known formatter gets wrong: prove the validator would catch it.
    root = item_doc(make_article(EMBARGOED_RECORD))
    embargoed = one(root, "//g:itemMeta/g:embargoed")
    one(root, "//g:itemMeta/g:pubStatus").addnext(embargoed)
    assert newsml_errors(etree.tostring(root)) != []


# -- what the schema cannot check -------------------------------------------------------


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: a.id)
def test_every_datetime_carries_an_offset(article: Article) -> None:
    for data in (render_news_item(CTX, article, embargoed_view=True), message_of([article])):
        root = parse_xml(data)
        values = [
            value for name in DATETIME_ELEMENTS for value in texts(root, f"//g:{name}/text()")
        ]
        assert values
        for value in values:
            assert OFFSET.search(value), value
            datetime.fromisoformat(value)


def test_a_naive_datetime_is_refused_not_emitted() -> None:
    naive = make_article(BASE_RECORD, version_created=datetime(2024, 6, 19, 10, 0))
    with pytest.raises(ValueError, match="offset"):
        render_news_item(CTX, naive, embargoed_view=False)


def test_item_meta_order_first_created_embargoed_pub_status() -> None:
    root = item_doc(make_article(EMBARGOED_RECORD))
    names = [etree.QName(e).localname for e in one(root, "//g:itemMeta")]
    assert names[:6] == [
        "itemClass",
        "provider",
        "versionCreated",
        "firstCreated",
        "embargoed",
        "pubStatus",
    ]
    assert texts(root, "//g:embargoed/text()") == ["2024-06-20T00:00:00+00:00"]


def test_version_rises_and_guid_is_stable_across_versions() -> None:
    versions = [make_article(FULL_RECORD, version=v) for v in (1, 2, 3, 4)]
    roots = [item_doc(a) for a in versions]
    assert [r.get("version") for r in roots] == ["1", "2", "3", "4"]
    guids = {r.get("guid") for r in roots}
    assert guids == {f"urn:newsml:{CTX.provider}:{FULL_RECORD['id']}"}
    created = [datetime.fromisoformat(texts(r, "//g:versionCreated/text()")[0]) for r in roots]
    assert created == sorted(created) and len(set(created)) == 4
    assert all("4" not in str(g) for g in guids)


def test_power_conformance_and_the_iptc_catalog() -> None:
    root = item_doc(ARTICLES[0])
    assert root.get("standard") == "NewsML-G2"
    assert root.get("standardversion") == "2.35"
    assert root.get("conformance") == "power"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert texts(root, "/g:newsItem/g:catalogRef/@href") == [IPTC_CATALOG]


def test_every_qcode_scheme_we_use_is_declared_by_the_iptc_catalog() -> None:
    assert QCODE_SCHEMES <= IPTC_CATALOG_ALIASES, QCODE_SCHEMES - IPTC_CATALOG_ALIASES
    used: set[str] = set()
    for article in ARTICLES:
        root = parse_xml(message_of([article]))
        for value in texts(root, "//g:*/@qcode | //g:*/@rel | //g:*/@type | //g:*/@role"):
            used.add(value.partition(":")[0])
    assert used <= QCODE_SCHEMES, used - QCODE_SCHEMES
    assert {"ninat", "stat", "sig", "medtop", "cpnat", "drol", "irel"} <= used


def test_withdrawn_is_canceled_and_published_is_usable() -> None:
    assert texts(item_doc(withdrawn_article()), "//g:pubStatus/@qcode") == ["stat:canceled"]
    assert texts(item_doc(ARTICLES[0]), "//g:pubStatus/@qcode") == ["stat:usable"]


def test_signals_update_from_version_two_and_correction_when_the_note_says_so() -> None:
    assert texts(item_doc(ARTICLES[0]), "//g:signal/@qcode") == []
    assert texts(item_doc(make_article(FULL_RECORD, version=2)), "//g:signal/@qcode") == [
        "sig:update"
    ]
    corrected = item_doc(corrected_article())
    assert corrected.get("version") == "3"
    assert texts(corrected, "//g:signal/@qcode") == ["sig:update", "sig:correction"]
    assert texts(corrected, "//g:edNote/text()") == ["Corrects the minister's name."]


def test_full_article_metadata() -> None:
    root = item_doc(make_article(FULL_RECORD, version=2))
    assert texts(root, "//g:rightsInfo/g:copyrightHolder/g:name/text()") == ["Syndicate News Ltd"]
    assert texts(root, "//g:rightsInfo/g:usageTerms/text()") == ["Editorial use only."]
    assert texts(root, "//g:itemMeta/g:link/@href") == [
        "https://news.example/global/rates-explained",
        "https://news.example/global/asia-close",
    ]
    assert texts(root, "//g:itemMeta/g:link/@title") == ["Rates, explained"]
    assert texts(root, "//g:urgency/text()") == ["3"]
    assert texts(root, "//g:creator/g:name/text()") == ["Asha Rao", "Ben Cole"]
    assert texts(root, "//g:by/text()") == ["Asha Rao, Ben Cole"]
    assert texts(root, "//g:subject/@qcode") == ["medtop:04000000", "medtop:20000350"]
    assert texts(root, "//g:subject/@type") == ["cpnat:abstract", "cpnat:abstract"]
    assert texts(root, "//g:description[@role='drol:summary']/text()") == [FULL_RECORD["summary"]]
    assert texts(root, "//g:slugline/text()") == ["markets"]
    assert texts(root, "//g:language/@tag") == ["en"]
    assert texts(root, "//g:contentModified/text()") == ["2024-06-19T11:00:00+05:30"]
    icon = one(root, "//g:contentMeta/g:icon")
    assert dict(icon.attrib) == {  # type: ignore[misc]
        "href": "https://cdn.news.example/img/markets.jpg",
        "contenttype": "image/jpeg",
        "width": "1600",
        "height": "900",
        "title": "Traders at the exchange",
    }
    assert "email" not in etree.tostring(root, encoding="unicode")


def test_hindi_text_round_trips_byte_exact() -> None:
    data = render_news_item(CTX, make_article(SEED_RECORD), embargoed_view=False)
    assert b"&#" not in data
    for text in (SEED_HEADLINE, SEED_SUMMARY, SEED_PARA_2):
        assert text.encode("utf-8") in data
    # The "also read" line carries a no-break space: UTF-8 bytes, never an entity.
    assert SEED_ALSO_READ.encode("utf-8") in data
    root = parse_xml(data)
    assert texts(root, "//g:headline/text()") == [SEED_HEADLINE]
    assert texts(root, "//h:body/h:p[3]/h:em/text()") == [SEED_ALSO_READ]
    assert texts(root, "//h:title/text()") == [SEED_HEADLINE]
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "hi"


def test_headline_markup_is_text_and_body_html_becomes_one_xhtml_root() -> None:
    data = render_news_item(CTX, make_article(MESSY_RECORD), embargoed_view=False)
    root = parse_xml(data)
    assert texts(root, "//g:headline/text()") == [MESSY_RECORD["headline"]]
    assert root.xpath("//g:headline/*", namespaces=NS) == []
    assert texts(root, "//g:description/text()") == ["A < B & C > D"]
    inline = one(root, "//g:contentSet/g:inlineXML")
    assert inline.get("contenttype") == "application/xhtml+xml"
    assert [child.tag for child in inline] == ["{http://www.w3.org/1999/xhtml}html"]
    body = one(root, "//h:html/h:body")
    assert all(etree.QName(e).namespace == NS["h"] for e in body.iter(etree.Element))
    assert count(body, "h:p") == 3
    assert count(body, ".//h:br") == 1
    assert count(body, ".//h:li") == 2
    first = "".join(body.xpath("h:p[1]//text()", namespaces=NS))  # type: ignore[arg-type]
    assert first == "Line oneline two\xa0with\xa0spaces"
    assert (ARABIC_HEADLINE + " " + EMOJI_HEADLINE).encode("utf-8") in data
    assert b"&#" not in data and b"&nbsp;" not in data


def test_rendering_is_deterministic() -> None:
    items: list[Article | Change] = list(ARTICLES)
    assert message_of(items) == message_of(items)
    assert render_ninjs_list(
        CTX, items, now=NOW, next_cursor="x", embargoed_view=True
    ) == render_ninjs_list(CTX, items, now=NOW, next_cursor="x", embargoed_view=True)


# -- message header, cursor, embargo --------------------------------------------------------


def test_next_cursor_travels_in_a_header_ext_property() -> None:
    root = parse_xml(message_of([ARTICLES[0]], next_cursor="CURSOR_abc-1"))
    prop = one(root, "/g:newsMessage/g:header/g:headerExtProperty")
    assert prop.get("reluri") == "https://news.example/partners/concepts/next-cursor"
    assert prop.get("value") == "CURSOR_abc-1"
    root = parse_xml(message_of([ARTICLES[0]], next_cursor=None))
    assert root.xpath("//g:headerExtProperty", namespaces=NS) == []


def test_an_empty_message_is_refused() -> None:
    with pytest.raises(ValueError, match="204"):
        message_of([])


def _held_change() -> Change:
    record = {**EMBARGOED_RECORD, "embargo_until": "2024-06-22T00:00:00Z"}
    return Change(seq=9, kind="created", article=make_article(record), held=True)


def test_a_held_change_never_reaches_a_plain_view() -> None:
    with pytest.raises(EmbargoLeak):
        message_of([_held_change()], embargoed_view=False)
    with pytest.raises(EmbargoLeak):
        render_ninjs_list(CTX, [_held_change()], now=NOW, next_cursor=None, embargoed_view=False)
    article = _held_change().article
    with pytest.raises(EmbargoLeak):
        render_news_item(CTX, article, embargoed_view=False, now=NOW)


@conformance
def test_a_held_future_dated_article_is_marked_embargoed_for_embargo_partners() -> None:
    record = copy.deepcopy(BASE_RECORD)
    record.update(id="future", published="2024-06-23T08:00:00+05:30")
    future = make_article(record)
    data = message_of([Change(seq=3, kind="created", article=future, held=True)])
    assert newsml_errors(data) == []
    assert texts(parse_xml(data), "//g:embargoed/text()") == ["2024-06-23T08:00:00+05:30"]
    # Once released (now after `published`), no embargo is claimed for it.
    later = NOW + timedelta(days=3)
    released = item_doc(future, now=later)
    assert released.xpath("//g:embargoed", namespaces=NS) == []
    ninjs = render_ninjs_item(CTX, future, held=True)
    assert ninjs["embargoed"] == "2024-06-23T08:00:00+05:30"


def test_released_embargo_stays_as_information() -> None:
    article = make_article(EMBARGOED_RECORD)
    root = parse_xml(render_news_item(CTX, article, embargoed_view=False, now=NOW))
    assert texts(root, "//g:embargoed/text()") == ["2024-06-20T00:00:00+00:00"]


def test_context_from_settings() -> None:
    settings = settings_from_mapping(
        {"syndicate": {"provider": "news.example", "base_url": "https://n.example/"}}
    )
    ctx = PartnerContext.from_settings(settings)
    assert ctx.provider == "news.example"
    assert ctx.base_url == "https://n.example"
    assert ctx.display_name == "Syndicate"


# -- ninjs ----------------------------------------------------------------------------------


@conformance
@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: a.id)
def test_every_ninjs_item_validates(article: Article) -> None:
    item = render_ninjs_item(CTX, article)
    assert ninjs_errors(item) == []
    assert item["uri"] == parse_xml(render_news_item(CTX, article, embargoed_view=True)).get("guid")
    assert item["version"] == str(article.version)
    for key in ("firstcreated", "versioncreated", "contentcreated"):
        assert OFFSET.search(item[key]), item[key]


@conformance
def test_ninjs_list_items_validate_and_carry_the_cursor() -> None:
    items: list[Article | Change] = [*ARTICLES, _held_change()]
    data = render_ninjs_list(CTX, items, now=NOW, next_cursor="abc", embargoed_view=True)
    document = json.loads(data)
    assert document["next_cursor"] == "abc"
    assert len(document["items"]) == len(items)
    for item in document["items"]:
        assert ninjs_errors(item) == []
    assert document["items"][-1]["embargoed"] == "2024-06-22T00:00:00+00:00"


def test_ninjs_fields() -> None:
    full = render_ninjs_item(CTX, make_article(FULL_RECORD, version=2))
    assert full["type"] == "text"
    assert full["pubstatus"] == "usable"
    assert full["headlines"] == [{"role": "main", "value": FULL_RECORD["headline"]}]
    assert full["descriptions"][0]["role"] == "summary"
    assert full["bodies"] == [
        {"role": "main", "contenttype": "text/html", "value": FULL_RECORD["body_html"]}
    ]
    assert full["by"] == "Asha Rao, Ben Cole"
    assert full["urgency"] == 3
    assert full["copyrightholder"] == "Syndicate News Ltd"
    assert full["usageterms"] == "Editorial use only."
    assert full["ednote"] == "Adds analyst comment."
    assert full["subjects"][0] == {
        "uri": "http://cv.iptc.org/newscodes/mediatopic/04000000",
        "literal": "medtop:04000000",
    }
    picture = full["associations"][0]
    assert picture["name"] == "featureimage" and picture["type"] == "picture"
    assert picture["renditions"][0]["width"] == 1600
    assert picture["by"] == "Photo: Jane Doe"
    assert [a["uri"] for a in full["associations"][1:]] == [
        "https://news.example/global/rates-explained",
        "https://news.example/global/asia-close",
    ]
    assert render_ninjs_item(CTX, withdrawn_article())["pubstatus"] == "canceled"
    assert render_ninjs_item(CTX, make_article(EMBARGOED_RECORD))["embargoed"] == (
        "2024-06-20T00:00:00+00:00"
    )
    assert "embargoed" not in full


def test_ninjs_text_is_utf8_not_escaped() -> None:
    data = render_ninjs_list(
        CTX,
        [make_article(SEED_RECORD), make_article(MESSY_RECORD)],
        now=NOW,
        next_cursor=None,
        embargoed_view=False,
    )
    assert SEED_HEADLINE.encode("utf-8") in data
    assert EMOJI_HEADLINE.encode("utf-8") in data
    assert b"\\u" not in data
    document = json.loads(data)
    assert document["items"][0]["headlines"][0]["value"] == SEED_HEADLINE
    assert document["items"][1]["bodies"][0]["value"] == MESSY_RECORD["body_html"]
    assert document["next_cursor"] is None


def test_an_empty_ninjs_pull_is_an_empty_list() -> None:
    data = render_ninjs_list(CTX, [], now=NOW, next_cursor="c", embargoed_view=False)
    assert json.loads(data) == {"items": [], "next_cursor": "c"}


def test_first_created_comes_from_the_store() -> None:
    root = item_doc(make_article(FULL_RECORD, version=3))
    assert texts(root, "//g:firstCreated/text()") == [T0.isoformat()]


def test_missing_conformance_files_skip_or_fail(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "shared" / "conformance"
    monkeypatch.delenv("SYNDICATE_REQUIRE_CONFORMANCE", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not found"):
        require_conformance(missing)
    monkeypatch.setenv("SYNDICATE_REQUIRE_CONFORMANCE", "1")
    with pytest.raises(pytest.fail.Exception, match="SYNDICATE_REQUIRE_CONFORMANCE=1"):
        require_conformance(missing)


@conformance
def test_the_ninjs_check_is_live_it_rejects_bad_uris_and_unknown_properties() -> None:
    item = render_ninjs_item(CTX, ARTICLES[0])
    assert ninjs_errors({**item, "uri": "not a uri at all"}) != []
    assert ninjs_errors({**item, "versioncreated": "2024-06-19T09:30:00"}) != []
    assert ninjs_errors({**item, "body_html": "<p>x</p>"}) != []
