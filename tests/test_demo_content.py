"""The demo articles `make run` loads: valid against syndicate.toml; the Hindi one done right."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest

from syndicate.core.config import Settings, load_settings
from syndicate.core.model import parse_time
from syndicate.validate import validate_record
from tests.helpers.imports import seed_page
from tests.helpers.paths import ROOT


@pytest.fixture(scope="module")
def demo() -> list[dict[str, Any]]:
    text = resources.files("syndicate").joinpath("demo/articles.json").read_text("utf-8")
    articles: list[dict[str, Any]] = json.loads(text)
    return articles


@pytest.fixture(scope="module")
def toml_settings() -> Settings:
    return load_settings(ROOT / "syndicate.toml", environ={})


@pytest.fixture(scope="module")
def kim(demo: list[dict[str, Any]]) -> dict[str, Any]:
    return next(a for a in demo if a["id"] == "kim-putin-summit-2024")


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_every_demo_article_validates_unchanged(
    demo: list[dict[str, Any]], toml_settings: Settings
) -> None:
    for article in demo:
        # Stored exactly as the validator would store it: loading the demo is a no-op twice.
        assert validate_record(article, toml_settings) == article, article["id"]


def test_demo_covers_the_sections_and_languages(
    demo: list[dict[str, Any]], toml_settings: Settings
) -> None:
    assert len(demo) >= 14
    assert len({a["id"] for a in demo}) == len(demo)
    assert {s for a in demo for s in a["sections"]} == set(toml_settings.section_slugs)
    assert {a["language"].split("-")[0] for a in demo} == {"hi", "en"}
    assert any("updated" in a for a in demo)
    for field in ("image", "authors", "tags", "subjects", "related", "rights"):
        assert any(field in a for a in demo), field


def test_demo_dates_are_fixed_and_past(demo: list[dict[str, Any]]) -> None:
    now = datetime.now(UTC)
    for article in demo:
        assert article["canonical_url"].startswith("https://news.example/")
        for field in ("published", "updated"):
            if field in article:
                when = parse_time(article[field])
                assert 2024 <= when.year <= 2026 and when < now, (article["id"], field)


def test_hindi_article_summary_is_not_repeated_in_body(kim: dict[str, Any]) -> None:
    assert kim["language"] == "hi"
    assert kim["sections"] == ["global", "top-story"]
    assert kim["summary"] not in kim["body_html"]
    # Not even its first sentence.
    assert kim["summary"].split("।")[0] not in kim["body_html"]
    assert kim["body_html"].startswith("<p>इस मुलाकात में")


def test_hindi_article_has_no_also_read_lines_or_furniture(kim: dict[str, Any]) -> None:
    body = nfd(kim["body_html"])
    assert nfd("ये खबर भी पढ़ें") not in body
    assert "खबर भी" not in body
    for furniture in ("Related Articles", "Leave a Reply", "email address", "Back to top"):
        assert furniture not in kim["body_html"]
    assert len(kim["related"]) == 2
    for link in kim["related"]:
        assert link["url"].startswith("https://news.example/")
        assert link["title"] and link["title"] not in kim["body_html"]


def test_hindi_article_text_is_byte_exact_from_the_corpus(kim: dict[str, Any]) -> None:
    corpus = seed_page()
    assert kim["headline"] in corpus.splitlines()
    assert kim["summary"] in corpus.split("\n\n")
    for link in kim["related"]:
        assert link["title"] in corpus
    for paragraph in kim["body_html"].removeprefix("<p>").removesuffix("</p>").split("</p>\n<p>"):
        assert paragraph in corpus
