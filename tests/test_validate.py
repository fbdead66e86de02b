"""The article record's validation: fixture folders, bounds, the sanitiser, the fast verdict."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from syndicate.core.config import Settings
from syndicate.core.errors import InvalidArticle
from syndicate.validate import (
    MAX_BODY_BYTES,
    MAX_HEADLINE_CHARS,
    check_record,
    fast_check,
    sanitise_html,
    validate_record,
    validator,
)
from tests.helpers.paths import ARTICLE_FIXTURES

VALID = sorted((ARTICLE_FIXTURES / "valid").glob("*.json"))
INVALID = sorted((ARTICLE_FIXTURES / "invalid").glob("*.json"))


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def minimal(**changes: Any) -> dict[str, Any]:
    record = load(ARTICLE_FIXTURES / "valid" / "minimal.json")
    record.update(changes)
    return record


def test_fixture_folders_are_not_empty() -> None:
    assert len(VALID) >= 8
    assert len(INVALID) >= 15


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_is_accepted(path: Path, settings: Settings) -> None:
    raw = load(path)
    before = copy.deepcopy(raw)
    record = validate_record(raw, settings)
    assert raw == before, "the caller's record must not be modified"
    for name in ("version", "status", "first_created", "version_created"):
        assert name not in record
    # Plain-text fields come back exactly as sent.
    for name in ("id", "headline", "summary", "language", "sections", "published"):
        assert record.get(name) == raw.get(name)
    # Validating the result again changes nothing: re-posting a stored record is a no-op.
    assert validate_record(record, settings) == record


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_names_every_field(path: Path, settings: Settings) -> None:
    case = load(path)
    record, errors = check_record(case["record"], settings)
    assert record is None
    found = {(e.path, e.message) for e in errors}
    for expected in case["expect"]:
        matching = [m for p, m in found if p == expected["path"]]
        assert matching, f"no error at {expected['path']!r}; got {sorted(found)}"
        assert any(expected["message_contains"] in m for m in matching), matching
    # Every error is about a field the fixture expects (or inside it): no noise.
    expected_paths = {e["path"] for e in case["expect"]}
    for path_found, message in found:
        assert any(path_found == p or path_found.startswith(p + "/") for p in expected_paths), (
            path_found,
            message,
        )
    with pytest.raises(InvalidArticle) as raised:
        validate_record(case["record"], settings)
    assert raised.value.status == 422
    json.dumps(raised.value.as_body(), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("path", VALID + INVALID, ids=lambda p: p.stem)
def test_fast_verdict_never_accepts_what_jsonschema_rejects(path: Path) -> None:
    case = load(path)
    record = case["record"] if "expect" in case else case
    if fast_check()(record):
        assert validator().is_valid(record)


def test_fast_verdict_agrees_on_valid_records() -> None:
    for path in VALID:
        assert fast_check()(load(path)), path.stem


def test_non_object_is_one_error(settings: Settings) -> None:
    for raw in ([], "text", 3, None):
        assert check_record(raw, settings) == (None, [check_record([], settings)[1][0]])
        assert check_record(raw, settings)[1][0].path == ""


def test_headline_length_boundary(settings: Settings) -> None:
    assert validate_record(minimal(headline="ह" * MAX_HEADLINE_CHARS), settings)
    _, errors = check_record(minimal(headline="ह" * (MAX_HEADLINE_CHARS + 1)), settings)
    assert [e.path for e in errors] == ["/headline"]


def test_body_size_boundary_counts_utf8_bytes(settings: Settings) -> None:
    # Devanagari is 3 bytes a character: the character count alone would let this through.
    wrapper = "<p></p>"
    room = MAX_BODY_BYTES - len(wrapper)
    exact = "<p>" + "क" * (room // 3) + "a" * (room % 3) + "</p>"
    assert len(exact.encode("utf-8")) == MAX_BODY_BYTES
    assert validate_record(minimal(body_html=exact), settings)["body_html"]
    _, errors = check_record(minimal(body_html=exact + "a"), settings)
    assert [e.path for e in errors] == ["/body_html"]
    assert "bytes" in errors[0].message


def test_section_count_boundary() -> None:
    from syndicate.core.config import settings_from_mapping

    many = settings_from_mapping({"sections": {f"s{i}": {} for i in range(21)}}, environ={})
    slugs = [f"s{i}" for i in range(21)]
    assert validate_record(minimal(sections=slugs[:20]), many)
    _, errors = check_record(minimal(sections=slugs), many)
    assert [e.path for e in errors] == ["/sections"]


def test_devanagari_and_rtl_text_is_byte_exact(settings: Settings) -> None:
    hindi = load(ARTICLE_FIXTURES / "valid" / "hindi.json")
    arabic = load(ARTICLE_FIXTURES / "valid" / "arabic-rtl.json")
    for raw in (hindi, arabic):
        record = validate_record(raw, settings)
        for name in ("headline", "summary"):
            assert record[name].encode("utf-8") == raw[name].encode("utf-8")
    # Text inside the body survives sanitising unchanged too (no NFC/NFD, no entities).
    body = validate_record(hindi, settings)["body_html"]
    assert "व्यापक रणनीतिक साझेदारी" in body
    assert "اجتمع القادة العرب" in validate_record(arabic, settings)["body_html"]


def test_lt_in_plain_text_is_a_character(settings: Settings) -> None:
    record = validate_record(minimal(headline="Rates < 4% & falling", summary="<b>x</b>"), settings)
    assert record["headline"] == "Rates < 4% & falling"
    assert record["summary"] == "<b>x</b>"


def test_whole_numbers_written_as_floats_become_ints(settings: Settings) -> None:
    raw = minimal(urgency=3.0, image={"url": "https://news.example/a.jpg", "width": 640.0})
    record = validate_record(raw, settings)
    assert type(record["urgency"]) is int
    assert type(record["image"]["width"]) is int
    assert type(raw["image"]["width"]) is float


def test_booleans_are_not_numbers(settings: Settings) -> None:
    _, errors = check_record(minimal(urgency=True), settings)
    assert [e.path for e in errors] == ["/urgency"]


@pytest.mark.parametrize(
    ("dirty", "gone"),
    [
        ("<p>a</p><script>alert(1)</script>", "alert"),
        ("<style>p{color:red}</style><p>a</p>", "color"),
        ('<img src="https://x.example/i.jpg" onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">x</a>', "javascript"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "alert"),
        ('<img src="data:image/png;base64,AAAA">', "data:"),
        ('<iframe src="https://evil.example/"></iframe><p>a</p>', "evil"),
        ('<p style="position:fixed">a</p>', "style"),
        ("<p>a<!-- secret --></p>", "secret"),
        ('<form action="https://x.example/"><input name="q"></form>', "input"),
    ],
)
def test_sanitiser_removes_dangerous_markup(dirty: str, gone: str) -> None:
    clean = sanitise_html(dirty)
    assert gone.lower() not in clean.lower()
    assert sanitise_html(clean) == clean


def test_sanitiser_keeps_news_markup() -> None:
    body = (
        '<h2>Why</h2><p><a href="https://news.example/x" title="more">link</a> '
        "<em>e</em> <strong>s</strong> <b>b</b> <i>i</i> <u>u</u> <q>q</q> <cite>c</cite> "
        '<abbr title="Reserve Bank of India">RBI</abbr> H<sub>2</sub>O x<sup>2</sup> '
        '<span lang="en">s</span> <code>c</code><br></p><pre>p</pre><blockquote>bq</blockquote>'
        "<ul><li>1</li></ul><ol><li>2</li></ol><h3>3</h3><h6>6</h6>"
        '<figure><img src="https://news.example/i.jpg" alt="alt" width="640" height="360">'
        "<figcaption>cap</figcaption></figure>"
        '<table><caption>t</caption><thead><tr><th scope="col">h</th></tr></thead>'
        '<tbody><tr><td colspan="2">d</td></tr></tbody></table>'
    )
    clean = sanitise_html(body)
    expected_link = '<a href="https://news.example/x" title="more" rel="noopener noreferrer">'
    assert expected_link in clean
    for kept in ("<h2>", "<em>", "<blockquote>", "<figcaption>", 'scope="col"', 'colspan="2"'):
        assert kept in clean
    assert '<img src="https://news.example/i.jpg" alt="alt" width="640" height="360">' in clean
    assert sanitise_html(clean) == clean


@pytest.mark.parametrize(
    "html",
    [
        "<p>unclosed <b>bold <i>both</p> after",
        "<table><tr><td>no tbody</td></tr></table>",
        "a < b && c > d &amp; &nbsp; &ldquo;q&rdquo; &#x41;",
        '<a href="https://x.example/?a=1&b=2" rel="nofollow">x</a>',
        '<a href="/relative">r</a><a href="#frag">f</a><a href="mailto:x@news.example">m</a>',
        "<div><p>div is unwrapped</p></div><h1>h1 is unwrapped</h1>",
        "<p>नमस्ते<br/>दुनिया</p><p dir='rtl'>مرحبا</p> 🎉",
        "<ul><li>one<li>two</ul><p><p>",
        '<img src="https://x.example/a.jpg" alt="a &quot;quote&quot; <b>">',
        "",
    ],
)
def test_sanitiser_is_idempotent(html: str) -> None:
    once = sanitise_html(html)
    assert sanitise_html(once) == once


def test_error_paths_escape_json_pointer_characters(settings: Settings) -> None:
    _, errors = check_record(minimal(**{"a/b~c": 1}), settings)
    assert [e.path for e in errors] == ["/a~1b~0c"]
