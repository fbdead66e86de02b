"""Validation stays cheap and exact on hostile records: bounds first, one message a path."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from syndicate.core.config import Settings
from syndicate.core.errors import FieldError, InvalidArticle
from syndicate.validate import (
    MAX_BODY_DEPTH,
    MAX_BODY_TAGS,
    check_record,
    fast_check,
    json_key,
    validate_record,
    validator,
)
from tests.helpers.paths import ARTICLE_FIXTURES

MINIMAL = ARTICLE_FIXTURES / "valid" / "minimal.json"
# Generous for a shared 2-core machine; the point is "milliseconds", not "tens of seconds".
BUDGET_S = 0.25


def minimal(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(MINIMAL.read_text(encoding="utf-8"))
    record.update(changes)
    return record


def errors_of(raw: Any, settings: Settings) -> list[FieldError]:
    record, errors = check_record(raw, settings)
    assert record is None, "expected a rejection"
    return errors


def timed_errors(raw: Any, settings: Settings) -> tuple[float, list[FieldError]]:
    check_record(minimal(), settings)  # warm the caches: the budget is for the record
    start = time.perf_counter()
    errors = errors_of(raw, settings)
    return time.perf_counter() - start, errors


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subjects", ["medtop:11000000"] * 4001, "has 4001 items, at most 50"),
        ("subjects", [f"medtop:{i:08d}" for i in range(4001)], "has 4001 items, at most 50"),
        ("tags", ["ab"] * 100_000, "has 100000 items, at most 100"),
        ("sections", ["india"] * 50_000, "has 50000 items, at most 20"),
        ("headline", "x" * 1_000_000, "is too long: 1000000 characters, at most 300"),
    ],
    ids=["dup-subjects", "subjects", "tags", "sections", "headline"],
)
def test_sizes_and_counts_are_checked_first(
    field: str, value: Any, message: str, settings: Settings
) -> None:
    elapsed, errors = timed_errors(minimal(**{field: value}), settings)
    assert elapsed < BUDGET_S, f"{elapsed:.3f} s"
    assert (f"/{field}", message) in {(e.path, e.message) for e in errors}


def test_oversized_string_gets_one_message_not_its_pattern_too(settings: Settings) -> None:
    email = "a@" + "b." * 200_000
    elapsed, errors = timed_errors(minimal(authors=[{"name": "A", "email": email}]), settings)
    assert elapsed < BUDGET_S
    assert [(e.path, e.message) for e in errors] == [
        ("/authors/0/email", f"is too long: {len(email)} characters, at most 254")
    ]


def test_duplicates_within_the_bound_are_still_named(settings: Settings) -> None:
    errors = errors_of(minimal(subjects=["medtop:11000000"] * 3), settings)
    assert [(e.path, e.message) for e in errors] == [
        ("/subjects/1", "repeats 'medtop:11000000' from /subjects/0"),
        ("/subjects/2", "repeats 'medtop:11000000' from /subjects/0"),
    ]


def test_deep_json_in_unknown_or_mistyped_fields_is_not_walked(settings: Settings) -> None:
    deep = json.loads("[" * 900 + "]" * 900)
    errors = errors_of(minimal(x=deep, headline=deep), settings)
    assert [(e.path, e.message) for e in errors] == [
        ("/headline", "must be a string"),
        ("/x", "is not a known field"),
    ]


def test_markup_nesting_is_bounded(settings: Settings) -> None:
    assert validate_record(minimal(body_html="<b>" * MAX_BODY_DEPTH + "x"), settings)
    errors = errors_of(minimal(body_html="<b>" * (MAX_BODY_DEPTH + 1) + "x"), settings)
    assert [(e.path, e.message) for e in errors] == [
        ("/body_html", f"nests markup {MAX_BODY_DEPTH + 1} levels deep, at most 100")
    ]
    # Void elements and attribute values that look like tags do not count.
    flat = '<p><img src="https://x.example/i.jpg" alt="</b></b>"><br></p>' * 500
    assert validate_record(minimal(body_html=flat), settings)
    sneaky = '<img src="https://x.example/i.jpg" alt="</b>' + "</b>" * 200 + '">' + "<b>" * 101
    assert [e.path for e in errors_of(minimal(body_html=sneaky), settings)] == ["/body_html"]


@pytest.mark.parametrize("field", ["published", "updated", "embargo_until"])
@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"])
def test_every_instant_exists_in_utc(field: str, value: str, settings: Settings) -> None:
    raw = minimal(**{field: value})
    if field == "updated":
        raw["published"] = "0001-01-01T00:00:00Z" if value.startswith("9") else raw["published"]
    errors = errors_of(raw, settings)
    assert [(e.path, e.message) for e in errors if e.path == f"/{field}"] == [
        (f"/{field}", f"is outside years 1–9999 in UTC (got {value!r})")
    ]
    with pytest.raises(InvalidArticle) as raised:
        validate_record(raw, settings)
    assert raised.value.status == 422


def test_extreme_instants_inside_the_range_are_accepted(settings: Settings) -> None:
    raw = minimal(published="0001-01-01T00:00:00-01:00", updated="9999-12-31T23:59:59+23:59")
    assert validate_record(raw, settings)["updated"] == "9999-12-31T23:59:59+23:59"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "abc\n"),
        ("sections", ["india\n"]),
        ("language", "hi\n"),
        ("subjects", ["medtop:11000000\n"]),
        ("published", "2024-06-19T10:00:00Z\n"),
        ("canonical_url", "https://news.example/a\n"),
    ],
)
def test_patterns_match_the_whole_string(field: str, value: Any, settings: Settings) -> None:
    paths = [e.path for e in errors_of(minimal(**{field: value}), settings)]
    assert paths == [f"/{field}" if isinstance(value, str) else f"/{field}/0"]


@pytest.mark.parametrize("value", [".", "..", "..."])
def test_ids_of_only_dots_are_refused_clearly(value: str, settings: Settings) -> None:
    errors = errors_of(minimal(id=value), settings)
    assert [(e.path, e.message) for e in errors] == [
        ("/id", f"must not be only dots: {value!r} folds into another path in URLs")
    ]


@pytest.mark.parametrize("value", ["a.b", ".hidden", "v1.2.3", "a..b", "-", "_"])
def test_ids_with_dots_and_more_are_fine(value: str, settings: Settings) -> None:
    assert validate_record(minimal(id=value), settings)["id"] == value


@pytest.mark.parametrize(
    ("url", "char"),
    [
        ('https://news.example/a"b', "'\"'"),
        ("https://news.example/<script>", "'<'"),
        ("https://news.example/a>b", "'>'"),
        ("https://news.example/a b", "' '"),
        ("https://news.example/a{b}", "'{'"),
        ("https://news.example/100%", "'%'"),
    ],
)
def test_urls_are_rfc3986_uris(url: str, char: str, settings: Settings) -> None:
    errors = errors_of(minimal(canonical_url=url), settings)
    assert [e.path for e in errors] == ["/canonical_url"]
    assert errors[0].message.startswith(f"is not an RFC 3986 URI: {char} at character")


@pytest.mark.parametrize(
    "url",
    [
        "https://समाचार.भारत/हिंदी-समाचार",
        "https://xn--l2bb6bxd.example/a?b=1&c=%20#frag",
        "http://[2001:db8::1]:8080/x",
        "https://news.example/a;b=c/(d)!*'~",
    ],
)
def test_idn_hosts_and_legal_uris_are_accepted(url: str, settings: Settings) -> None:
    assert validate_record(minimal(canonical_url=url), settings)["canonical_url"] == url


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "a\x00b"},
        {"headline": "a\x00b"},
        {"body_html": "<p>a\x00b</p>"},
        {"tags": ["a\x00b"]},
        {"authors": [{"name": "a\x00b"}]},
        {"image": {"url": "https://news.example/i.jpg", "caption": "a\x00b"}},
        {"rights": {"holder": "a\x00b"}},
    ],
)
def test_nul_is_refused_everywhere(changes: dict[str, Any], settings: Settings) -> None:
    errors = errors_of(minimal(**changes), settings)
    assert len(errors) == 1
    assert "\x00" not in json.dumps([e.as_dict() for e in errors], ensure_ascii=False)


@pytest.mark.parametrize("headline", ["", " ", "\t\n"])
def test_a_blank_headline_is_one_message(headline: str, settings: Settings) -> None:
    errors = errors_of(minimal(headline=headline), settings)
    assert len(errors) == 1
    assert errors[0].path == "/headline"


def test_one_message_per_path_in_one_shape(settings: Settings) -> None:
    raw = minimal(
        id="",
        headline="",
        sections=["india", "india"] * 30,
        urgency=99,
        canonical_url="https://a/b c",
        extra={"deep": [1]},
    )
    errors = errors_of(raw, settings)
    paths = [e.path for e in errors]
    assert len(paths) == len(set(paths)), paths
    with pytest.raises(InvalidArticle) as raised:
        validate_record(raw, settings)
    body = raised.value.as_body()
    assert set(body) == {"errors"}
    assert all(set(e) == {"path", "message"} for e in body["errors"])
    assert all(isinstance(v, str) for e in body["errors"] for v in e.values())


@pytest.mark.parametrize("field", ["id", "language", "published", "canonical_url"])
def test_fast_check_and_jsonschema_both_anchor_at_the_very_end(field: str) -> None:
    raw = minimal()
    raw[field] = raw[field] + "\n"
    assert not fast_check()(raw)
    assert not validator().is_valid(raw)
    assert validator().is_valid(minimal()) and fast_check()(minimal())


@pytest.mark.parametrize(
    ("items", "unique"),
    [
        ([1, 1.0], False),
        ([1, True], True),
        ([0, False, None], True),
        ([{"a": [1]}, {"a": [1.0]}], False),
        ([["a"], "a"], True),
        (["x"] * 2, False),
    ],
)
def test_uniqueness_by_hashing_follows_json_schema_equality(items: list[Any], unique: bool) -> None:
    assert (len({json_key(x) for x in items}) == len(items)) is unique
    assert Draft202012Validator({"uniqueItems": True}).is_valid(items) is unique


def test_a_body_of_tens_of_thousands_of_tags_is_refused_before_sanitising(
    settings: Settings,
) -> None:
    # 1 MiB of `<p>a</p>` took 146 ms in the sanitiser; counting is done before it runs.
    body = "<p>a</p>" * (1024 * 1024 // 8 - 1)
    elapsed, errors = timed_errors(minimal(body_html=body), settings)
    assert elapsed < BUDGET_S, f"{elapsed:.3f} s"
    assert [(e.path, e.message) for e in errors] == [
        ("/body_html", f"has {body.count('<')} tags (or `<` characters), at most {MAX_BODY_TAGS}")
    ]
    within = "<p>a</p>" * (MAX_BODY_TAGS // 2)
    assert validate_record(minimal(body_html=within), settings)


def test_character_references_are_bounded_by_the_body_length(settings: Settings) -> None:
    # 200,000 `&amp;` cost the sanitiser 0.8 s: its cost grows with references x text.
    body = "<p>" + "&amp;" * 200_000 + "</p>"
    elapsed, errors = timed_errors(minimal(body_html=body), settings)
    assert elapsed < BUDGET_S, f"{elapsed:.3f} s"
    assert [e.path for e in errors] == ["/body_html"]
    assert "has 200000 character references" in errors[0].message
    # An ordinary long article keeps thousands of them.
    ordinary = "<p>" + "Tom &amp; Jerry, AT&amp;T and &quot;quotes&quot;. " * 1000 + "</p>"
    assert validate_record(minimal(body_html=ordinary), settings)
