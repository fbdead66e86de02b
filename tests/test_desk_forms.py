"""The write form's fields and the record they stand for: a stored record goes into the form
and comes back unchanged; errors land on the field their JSON pointer names; previews."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from syndicate.core.config import Settings
from syndicate.core.errors import FieldError
from syndicate.core.model import Article
from syndicate.render import FeedContext
from syndicate.render.partner import PartnerContext
from syndicate.render.preview import item_previews
from syndicate.web.desk.forms import errors_by_field, form_from_record, record_from_form
from tests.helpers.paths import ARTICLE_FIXTURES

FULL = ARTICLE_FIXTURES / "valid" / "full.json"


def _as_posted(values: dict[str, Any]) -> dict[str, list[str]]:
    """What a browser posts for these form values (each field a list of strings)."""
    posted = {k: [v] for k, v in values.items() if isinstance(v, str)}
    posted["sections"] = list(values["sections"])
    return posted


def test_a_full_record_survives_the_form_unchanged() -> None:
    record = json.loads(FULL.read_text(encoding="utf-8"))
    back = record_from_form(_as_posted(form_from_record(record)), record)
    assert back == record


def test_an_image_byte_length_stays_only_while_the_image_does() -> None:
    record = json.loads(FULL.read_text(encoding="utf-8"))
    values = form_from_record(record) | {"image_url": "https://news.example/img/other.jpg"}
    back = record_from_form(_as_posted(values), record)
    assert "length" not in back["image"]
    values = form_from_record(record) | {k: "" for k in form_from_record(record) if "image_" in k}
    assert "image" not in record_from_form(_as_posted(values), record)


def test_errors_land_on_their_fields() -> None:
    placed = errors_by_field(
        [
            FieldError("/headline", "must not be empty"),
            FieldError("/image/width", "must be a whole number"),
            FieldError("/authors/1/email", "is not an e-mail address"),
            FieldError("/sections/0", "no such section: 'x'"),
            FieldError("/rights", "expected a JSON object"),
            FieldError("", "expected a JSON object"),
        ]
    )
    assert placed == {
        "headline": ["must not be empty"],
        "image_width": ["must be a whole number"],
        "authors": ["line 2: is not an e-mail address"],
        "sections": ["item 1: no such section: 'x'"],
        "rights_holder": ["expected a JSON object"],
        "": ["expected a JSON object"],
    }


def test_previews_carry_the_item_in_every_format(settings: Settings) -> None:
    record = json.loads(FULL.read_text(encoding="utf-8"))
    record["sections"] = ["business"]
    article = Article.from_record(record, version=3, first_created=datetime.now(UTC))
    section = settings.section("business")
    assert section is not None
    previews = item_previews(
        FeedContext.from_settings(settings),
        PartnerContext.from_settings(settings),
        section,
        article,
        datetime.now(UTC),
    )
    by_label = {p.label: p.text for p in previews}
    assert list(by_label) == ["RSS", "Atom", "JSON Feed", "NewsML-G2", "ninjs"]
    assert etree.fromstring(by_label["RSS"].encode()).findtext("title") == record["headline"]
    atom = etree.fromstring(by_label["Atom"].encode())
    assert atom.tag == "{http://www.w3.org/2005/Atom}entry"
    assert json.loads(by_label["JSON Feed"])["title"] == record["headline"]
    assert etree.fromstring(by_label["NewsML-G2"].encode()).get("version") == "3"
    assert json.loads(by_label["ninjs"])["headlines"][0]["value"] == record["headline"]
