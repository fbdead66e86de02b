"""Shared test data for the partner renderers: article records, IPTC schema loaders.

The conformance folder is `../shared/conformance` beside the repository; without it the
schema-backed tests skip with a reason (or fail when SYNDICATE_REQUIRE_CONFORMANCE=1).
"""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from syndicate.model import Article, Status
from syndicate.render.partner import PartnerContext

CONFORMANCE = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"
NEWSML_DIR = CONFORMANCE / "newsml-g2"
NEWSML_XSD = NEWSML_DIR / "NewsML-G2_2.35-spec-All-Power.xsd"
NINJS_DIR = CONFORMANCE / "ninjs"
NINJS_SCHEMA = NINJS_DIR / "ninjs-schema_2.2.json"

CTX = PartnerContext(
    provider="syndicate.example", base_url="https://news.example", provider_name="Syndicate"
)
IST = timezone(timedelta(hours=5, minutes=30))
T0 = datetime(2024, 6, 19, 9, 30, tzinfo=IST)

# A few paragraphs of ../shared/corpus/scraped-article-hi.txt (copied, not read at run time).
HINDI_HEADLINE = (
    "किम-पुतिन बैठक: किम और पुतिन के बीच हुआ समझौता इतना अहम क्यों? नई रणनीतिक साझेदारी से उडी अमेरिका की नींद"
)
HINDI_SUMMARY = (
    "अंतरराष्ट्रीय प्रतिबंधों के चलते रूस और उत्तर "
    "कोरिया ने एक दूसरे के और निकट आकर अपनी "
    "रणनीतिक साझेदारी को और मजबूत किया है। रूस के "
    "राष्ट्रपति व्लादिमीर पुतिन ने बुधवार को उत्तर "
    "कोरिया की राजधानी प्योंगयांग की यात्रा के "
    "दौरान उत्तर कोरिया के तानाशाह किम जोंग उन से "
    "मुलाकात की।"
)
HINDI_PARA_2 = (
    "यूक्रेन युद्ध के चलते रूस इस समय हथियारों की "
    "कमी से जूझ रहा है। ऐसा माना जा रहा है कि "
    "उत्तर कोरिया आर्थिक मदद और तकनीक हस्तांतरण के "
    "बदले रूस को गोला-बारूद और अन्य सैन्य सहायता "
    "प्रदान कर सकता है। हालांकि, दोनों देशों के "
    "बीच हुए समझौते में एक दूसरे की मदद की "
    "स्पष्टता नहीं दी गई है, परंतु पुतिन ने उत्तर "
    "कोरिया के साथ रूस के सैन्य और तकनीकी सहयोग से "
    "इंकार नहीं किया। पुतिन ने यूक्रेन नीति को "
    "लेकर रूस का बिना शर्त समर्थन करने के लिए "
    "उत्तर कोरिया का आभार भी जताया। रूस और उत्तर "
    "कोरिया दोनों अंतरराष्ट्रीय प्रतिबंधों का "
    "सामना कर रहे हैं। उत्तर कोरिया अपने परमाणु "
    "हथियारों के विकास और मिसाइल कार्यक्रम के चलते "
    "संयुक्त राष्ट्र सुरक्षा परिषद के प्रतिबंधों "
    "का सामना कर रहा है। वहीं, रूस यूक्रेन पर "
    "आक्रमण के कारण अमेरिका और पश्चिमी देशों के "
    "प्रतिबंधों से त्रस्त है। इन प्रतिबंधों ने "
    "दोनों देशों को एक दूसरे के निकट लाने में अहम "
    "भूमिका निभाई है।"
)
HINDI_PARA_3 = (
    "रूसी मीडिया के अनुसार, पुतिन और किम जोंग उन "
    "ने करीब दो घंटे आमने-सामने बैठकर चर्चा की, "
    "जबकि यह बैठक एक घंटे की ही प्रस्तावित थी। इस "
    "विस्तारित चर्चा से स्पष्ट है कि दोनों देशों "
    "के नेताओं के बीच महत्वपूर्ण मुद्दों पर गहन "
    "विचार-विमर्श हुआ है। यह बैठक दोनों देशों के "
    "बीच संबंधों को और प्रगाढ़ करने का संकेत देती "
    "है। इस यात्रा से यह भी संकेत मिलता है कि रूस "
    "उत्तर कोरिया के साथ अपने संबंधों को और मजबूत "
    "करने की दिशा में आगे बढ़ रहा है। उत्तर कोरिया "
    "की ओर से भी इस समझौते को गंभीरता से लिया जा "
    "रहा है। प्योंगयांग में पुतिन का स्वागत और किम "
    "जोंग उन का व्यक्तिगत रूचि लेना इस बात का "
    "प्रमाण है।"
)
HINDI_ALSO_READ = (
    "ये खबर भी पढ़ें :\xa0अयोध्या के राम मंदिर परिसर में हुई फायरिंग, एक SSF जवान की गोली लगने से मौत।"
)

ARABIC = "مرحبا بالعالم — خبر عاجل"
EMOJI = "Flags 🇮🇳 and faces 😀👩🏽‍💻"


def require_conformance(path: Path) -> None:
    """Skip (or fail in CI) when the IPTC conformance files are not beside the repo."""
    if path.exists():
        return
    reason = f"IPTC conformance files not found at {path} (expected ../shared/conformance)"
    if os.environ.get("SYNDICATE_REQUIRE_CONFORMANCE") == "1":
        pytest.fail(reason + " and SYNDICATE_REQUIRE_CONFORMANCE=1")
    pytest.skip(reason)


class _LocalXmlXsd(etree.Resolver):
    """Maps the schema's `xml.xsd` import onto the local copy: no network, ever."""

    # lxml-stubs declare an older two-argument signature; lxml calls it with `context`.
    def resolve(  # type: ignore[override]
        self, url: str | None, pubid: str | None, context: Any
    ) -> Any:
        if url is not None and url.endswith("xml.xsd"):
            return self.resolve_filename(str(NEWSML_DIR / "xml.xsd"), context)  # type: ignore[attr-defined]
        return None


@cache
def _newsml_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_LocalXmlXsd())
    return etree.XMLSchema(etree.parse(str(NEWSML_XSD), parser))


def newsml_schema() -> etree.XMLSchema:
    require_conformance(NEWSML_XSD)
    return _newsml_schema()


def parse_xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(no_network=True, resolve_entities=False))


def newsml_errors(data: bytes) -> list[str]:
    schema = newsml_schema()
    doc = parse_xml(data)
    if schema.validate(doc.getroottree()):
        return []
    return [f"{e.line}: {e.message}" for e in schema.error_log]  # type: ignore[attr-defined]


@cache
def _ninjs_validator() -> Any:
    from jsonschema.validators import validator_for
    from referencing import Registry, Resource

    schema = json.loads(NINJS_SCHEMA.read_text("utf-8"))
    geojson = json.loads((NINJS_DIR / "geojson" / "GeoJSON.json").read_text("utf-8"))
    registry = Registry().with_resource(geojson["$id"], Resource.from_contents(geojson))
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, registry=registry, format_checker=validator_class.FORMAT_CHECKER)


def ninjs_errors(item: dict[str, Any]) -> list[str]:
    require_conformance(NINJS_SCHEMA)
    errors = _ninjs_validator().iter_errors(item)
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors]


BASE_RECORD: dict[str, Any] = {
    "id": "budget-2024",
    "headline": "Budget passes after a long night",
    "body_html": "<p>The budget passed.</p>",
    "language": "en",
    "sections": ["global"],
    "published": "2024-06-19T09:30:00+05:30",
    "canonical_url": "https://news.example/global/budget-2024",
}

FULL_RECORD: dict[str, Any] = {
    **BASE_RECORD,
    "id": "full-en",
    "headline": "Markets rally as rates hold steady",
    "summary": "Stocks rose across Asia after the central bank held rates.",
    "body_html": (
        "<p>Stocks <b>rose</b> on Wednesday.</p><h2>Why</h2>"
        '<p>Analysts said <a href="https://news.example/x">rates</a> matter.</p>'
        "<ul><li>One</li><li>Two</li></ul><blockquote>Quote</blockquote>"
    ),
    "authors": [
        {"name": "Asha Rao", "url": "https://news.example/staff/asha", "email": "asha@x.example"},
        {"name": "Ben Cole"},
    ],
    "updated": "2024-06-19T11:00:00+05:30",
    "image": {
        "url": "https://cdn.news.example/img/markets.jpg",
        "caption": "Traders at the exchange",
        "credit": "Photo: Jane Doe",
        "width": 1600,
        "height": 900,
        "mime_type": "image/jpeg",
    },
    "tags": ["markets", "economy"],
    "subjects": ["medtop:04000000", "medtop:20000350"],
    "related": [
        {"url": "https://news.example/global/rates-explained", "title": "Rates, explained"},
        {"url": "https://news.example/global/asia-close"},
    ],
    "urgency": 3,
    "rights": {"holder": "Syndicate News Ltd", "usage_terms": "Editorial use only."},
    "editorial_note": "Adds analyst comment.",
}

HINDI_RECORD: dict[str, Any] = {
    **BASE_RECORD,
    "id": "kim-putin-hi",
    "headline": HINDI_HEADLINE,
    "summary": HINDI_SUMMARY,
    "body_html": (
        f"<p>{HINDI_SUMMARY}</p><p>{HINDI_PARA_2}</p>"
        f"<p><em>{HINDI_ALSO_READ}</em></p><p>{HINDI_PARA_3}</p>"
    ),
    "language": "hi",
    "authors": [{"name": "संवाददाता"}],
    "tags": ["वैश्विक"],
    "subjects": ["medtop:11000000"],
}

MESSY_RECORD: dict[str, Any] = {
    **BASE_RECORD,
    "id": "messy-html",
    "headline": 'Is 3 < 5? Tom & Jerry say "yes" <b>not bold</b>',
    "summary": "A < B & C > D",
    "body_html": (
        "<p>Line one<br>line two&nbsp;with&nbsp;spaces"
        "<p>Unclosed paragraph &amp; <i>italic <b>bold</i> tail"
        '<ul><li>item one<li>item two</ul><img src="https://cdn.news.example/a.png" alt="a">'
        f"<p>{ARABIC} {EMOJI}"
    ),
}

EMBARGOED_RECORD: dict[str, Any] = {
    **BASE_RECORD,
    "id": "embargoed-report",
    "headline": "Report under embargo",
    "embargo_until": "2024-06-20T00:00:00Z",
}


def make_article(
    record: dict[str, Any],
    *,
    version: int = 1,
    status: Status = "published",
    version_created: datetime | None = None,
) -> Article:
    rec = copy.deepcopy(record)
    return Article.from_record(
        rec,
        version=version,
        status=status,
        first_created=T0,
        version_created=version_created or T0 + timedelta(minutes=5 * version),
    )


def corrected_article() -> Article:
    record = {**FULL_RECORD, "id": "corrected", "editorial_note": "Corrects the minister's name."}
    return make_article(record, version=3)


def withdrawn_article() -> Article:
    return make_article({**BASE_RECORD, "id": "withdrawn"}, version=2, status="withdrawn")


def every_kind_of_article() -> list[Article]:
    return [
        make_article(BASE_RECORD),
        make_article(FULL_RECORD, version=2),
        make_article(HINDI_RECORD),
        make_article(MESSY_RECORD),
        make_article(EMBARGOED_RECORD),
        corrected_article(),
        withdrawn_article(),
    ]


NOW = datetime(2024, 6, 21, 12, 0, tzinfo=UTC)
