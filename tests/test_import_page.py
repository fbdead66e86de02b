"""Scraped pages become records: the seed page field by field, and HTML pages in Hindi, English
and Arabic with JSON-LD, with only meta tags, and with neither. No store: `store=None` is the
dry run, which extracts and validates exactly as an import does."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from syndicate.core.config import Settings
from syndicate.importing.page import extract_page
from syndicate.pipeline.imports import ImportResult, PageOptions, import_page, section_names
from tests.helpers.imports import (
    MODIFIED,
    PUBLISHED,
    SITES,
    STORIES,
    Story,
    canonical,
    html_page,
    image_url,
    seed_page,
)
from tests.helpers.texts import AYODHYA, DALAI_LAMA

NOW = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
FURNITURE = (
    "GlobalTop Story",
    "Related Articles",
    "Leave a Reply",
    "email address",
    "Required fields",
    "Back to top",
    "Share",
    "Tweet",
    "WhatsApp",
    "© 2024",
)


def _paragraphs(body_html: str) -> list[str]:
    """The body's paragraphs as text, parsed (the body is an HTML fragment)."""
    root = etree.fromstring(f"<div>{body_html}</div>")
    assert all(child.tag == "p" for child in root), body_html
    return ["".join(p.itertext()) for p in root]


async def _import(
    settings: Settings, text: str, kind: str, **options: Any
) -> tuple[ImportResult, dict[str, Any]]:
    result = await import_page(
        "page",
        text,
        kind,
        settings,
        None,
        PageOptions(**options),
        now=NOW,  # type: ignore[arg-type]
    )
    assert result.outcome == "valid", result.errors
    assert result.record is not None
    return result, result.record


# -- the seed page -----------------------------------------------------------------------------
async def test_the_seed_page_becomes_the_record_field_by_field(settings: Settings) -> None:
    text = seed_page()
    blocks = text.split("\n\n")
    result, record = await _import(settings, text, "text")
    assert (
        record["headline"]
        == blocks[1]
        == (
            "किम-पुतिन बैठक: किम और पुतिन के बीच हुआ समझौता इतना अहम क्यों? "
            "नई रणनीतिक साझेदारी से उडी अमेरिका की नींद"
        )
    )
    # The standfirst is the summary; the body's repetition of it is cut from its first paragraph.
    standfirst = blocks[2]
    assert record["summary"] == standfirst
    assert standfirst.endswith("किम जोंग उन से मुलाकात की।")
    assert blocks[3].startswith(standfirst + " ")
    paragraphs = _paragraphs(record["body_html"])
    assert paragraphs == [blocks[3][len(standfirst) + 1 :], blocks[4], blocks[6], blocks[8]]
    assert paragraphs[0].startswith("इस मुलाकात में दोनों देशों ने")
    assert record["body_html"] == "\n".join(
        f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs
    )
    # The two "also read" teasers, out of the body, as title-only related items (no store).
    assert record["related"] == [{"title": AYODHYA}, {"title": DALAI_LAMA}]
    for furniture in (*FURNITURE, "ये खबर भी पढ़ें", "खबर भी"):
        assert furniture not in record["body_html"], furniture
    assert standfirst not in record["body_html"]
    # The section strip named two declared sections: both are the article's when none is given.
    assert result.section_hints == ["global", "top-story"]
    assert record["sections"] == ["global", "top-story"]
    assert record["language"] == "hi"
    assert record["published"] == "2026-01-02T03:04:05+00:00"  # the import's time
    assert record["id"].startswith("page-")
    assert record["canonical_url"] == f"{settings.base_url}/articles/{record['id']}"
    assert set(record) == {
        "id", "headline", "summary", "body_html", "language", "sections", "published",
        "canonical_url", "related",
    }  # fmt: skip
    reasons = {d.text: d.reason for d in result.dropped}
    assert reasons["GlobalTop Story"] == "the site's section strip"
    assert reasons["Related Articles"].startswith("page furniture")
    assert reasons["Leave a Reply"] == "page furniture: the comment form"
    assert reasons["Back to top button"] == "page furniture: a back-to-top link"


async def test_the_seed_page_keeps_its_id_and_takes_what_the_editor_says(
    settings: Settings,
) -> None:
    text = seed_page()
    _, first = await _import(settings, text, "text", sections=("global",))
    _, again = await _import(settings, text, "text", sections=("global",))
    assert first["id"] == again["id"] and first["sections"] == ["global"]
    _, elsewhere = await _import(settings, text, "text", sections=("india",))
    assert elsewhere["id"] != first["id"]  # same headline, another section: another story
    url = "https://hindi.example/global/kim-putin"
    _, given = await _import(
        settings,
        text,
        "text",
        url=url,
        published=datetime.fromisoformat(PUBLISHED),
        language="hi-IN",
    )
    assert given["canonical_url"] == url and given["id"].startswith("kim-putin-")
    assert (given["published"], given["language"]) == (PUBLISHED, "hi-IN")


# -- HTML pages in three languages -------------------------------------------------------------
@pytest.mark.parametrize("variant", ["json-ld", "meta", "plain"])
@pytest.mark.parametrize("language", ["hi", "en", "ar"])
async def test_an_html_page_becomes_its_story(
    settings: Settings, language: str, variant: str
) -> None:
    story: Story = STORIES[language]
    result, record = await _import(
        settings, html_page(story, variant), "html", sections=("global",)
    )
    assert record["headline"] == story.headline
    assert record["summary"] == story.standfirst
    first = story.paragraphs[0][len(story.standfirst) + 1 :]
    assert _paragraphs(record["body_html"]) == [first, *story.paragraphs[1:]]
    phrase, title, url = story.linked_teaser
    assert record["related"] == [{"title": title, "url": url}, {"title": story.plain_teaser[1]}]
    assert record["language"] == language
    for text in (*story.furniture, *FURNITURE, phrase, "One other story", "Example News"):
        assert text not in record["body_html"], text
    if variant == "plain":  # neither JSON-LD nor meta: the service's own URL, the import's time
        assert record["canonical_url"] == f"{settings.base_url}/articles/{record['id']}"
        assert record["published"] == "2026-01-02T03:04:05+00:00"
        assert not {"authors", "image", "tags", "updated"} & set(record)
        assert result.notes[0].startswith(f"language: {language} (detected")
        return
    assert record["canonical_url"] == canonical(story)
    assert record["id"].startswith(story.slug + "-")
    assert record["published"] == PUBLISHED
    if variant == "meta":
        assert record["authors"] == [{"name": story.author}]
        assert record["image"] == {"url": image_url(story)}
        assert record["tags"] == ["economy"]
        assert "updated" not in record
    else:
        assert record["authors"] == [{"name": story.author, "url": SITES[language] + "staff"}]
        assert record["image"] == {"url": image_url(story), "width": 1200, "height": 675}
        assert record["tags"] == ["economy", "news"]
        assert record["updated"] == MODIFIED


async def test_the_page_language_loses_to_the_text_when_they_disagree(
    settings: Settings,
) -> None:
    page = html_page(STORIES["hi"], "meta").replace("<html", '<html lang="en"', 1)
    result, record = await _import(settings, page, "html", sections=("global",))
    assert record["language"] == "hi"
    assert any("the page declares en, the text reads as hi" in n for n in result.notes)


async def test_a_relative_teaser_link_resolves_against_the_page(settings: Settings) -> None:
    story = STORIES["en"]
    page = html_page(story, "meta").replace(story.linked_teaser[2], "/business/sensex-80000")
    _, record = await _import(settings, page, "html", sections=("business",))
    assert record["related"][0]["url"] == "https://daily.example/business/sensex-80000"


# -- what is refused -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind", "path", "words"),
    [
        ("", "text", "/headline", "no headline"),
        ("Only a headline", "text", "/body_html", "no body text"),
        ("x" * 400 + "\n\nA body paragraph.", "text", "/headline", "400 characters"),
        (
            "<html><body><nav><a href='/'>Home</a></nav></body></html>",
            "html",
            "/headline",
            "no headline",
        ),
    ],
)
async def test_a_page_without_a_headline_or_body_is_rejected_with_the_reason(
    settings: Settings, text: str, kind: str, path: str, words: str
) -> None:
    result = await import_page(
        "page",
        text,
        kind,
        settings,
        None,
        PageOptions(sections=("global",)),
        now=NOW,  # type: ignore[arg-type]
    )
    assert result.outcome == "rejected" and result.record is None
    assert [(e.path, words in e.message) for e in result.errors] == [(path, True)]


async def test_a_page_naming_no_declared_section_needs_one(settings: Settings) -> None:
    result = await import_page(
        "page",
        "Headline\n\nA paragraph of the story.",
        "text",
        settings,
        None,
        PageOptions(),
        now=NOW,
    )
    assert result.outcome == "rejected"
    assert [e.path for e in result.errors] == ["/sections"]


def test_section_strips_and_teasers_in_other_spellings(settings: Settings) -> None:
    text = (
        "Top Story | India\n\nA headline\n\nयह भी पढ़ें: एक और खबर।\n\n"
        "Body text that is long enough to be a paragraph of its own.\n\n"
        "READ ALSO - Another story\n\nShare · Facebook · X · Copy link\n\n"
        "Comments\n\nA reader's comment."
    )
    page = extract_page(text, "text", section_names(settings))
    assert (page.headline, page.section_hints) == ("A headline", ["top-story", "india"])
    assert [t.title for t in page.teasers] == ["एक और खबर", "Another story"]
    assert [b.text for b in page.body] == [
        "Body text that is long enough to be a paragraph of its own."
    ]
    assert [d.reason for d in page.dropped][-3:] == [
        "page furniture: a share bar",
        "page furniture: the comment form",
        "after the article's end (the comment form)",
    ]


def test_what_looks_like_furniture_or_a_teaser_but_is_not(settings: Settings) -> None:
    """From pages the rules had not seen: code listings, link-only teasers, bad declarations."""
    from syndicate.importing.blocks import Block, Teaser, furniture, teaser
    from syndicate.importing.language import normalise_tag

    for text in ("print", "x", ",", "/", "x x x", "Email the desk at news@x.example"):
        assert furniture(Block.paragraph(text)) is None, text
    assert furniture(Block.paragraph("Share · X · Email · Print")) == ("a share bar", False)
    link = Block("p", "RELATED: A story", "", (("https://x.example/a", "RELATED: A story"),))
    assert teaser(link) == Teaser("A story", "https://x.example/a")
    assert teaser(Block.paragraph("Read more about the budget in our explainer.")) is None
    sidebar = Block("li", "Related changes", "", (("https://w.example/rc", "Related changes"),))
    assert teaser(sidebar) is None
    assert [normalise_tag(t) for t in ("hi_IN", "english", "de, at, ch", "", "en-GB")] == [
        "hi-IN", None, None, None, "en-GB",
    ]  # fmt: skip
