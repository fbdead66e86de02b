"""The one conditional-GET rule the feeds, fixed pages and partner pulls share."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from syndicate.web.caching import caching_headers, etag_matches, not_modified, strong_etag

MODIFIED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _request(**headers: str) -> web.Request:
    return make_mocked_request(
        "GET", "/", headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


def test_a_strong_etag_is_a_quoted_hash_of_the_bytes() -> None:
    assert strong_etag(b"feed") == '"' + hashlib.sha256(b"feed").hexdigest()[:32] + '"'


@pytest.mark.parametrize(
    ("header", "etag", "matches"),
    [
        ('"a"', '"a"', True),
        ('W/"a"', '"a"', True),
        ('"a"', 'W/"a"', True),
        (' "b" , W/"a" ', '"a"', True),
        ("*", '"a"', True),
        ('"b"', '"a"', False),
        ("", '"a"', False),
    ],
)
def test_if_none_match_uses_the_weak_comparison(header: str, etag: str, matches: bool) -> None:
    assert etag_matches(header, etag) is matches


def test_if_none_match_wins_over_if_modified_since() -> None:
    request = _request(If_None_Match='"other"', If_Modified_Since="Sun, 01 Mar 2026 13:00:00 GMT")
    assert not not_modified(request, '"a"', last_modified=MODIFIED)


@pytest.mark.parametrize(
    ("since", "fresh"),
    [
        ("Sun, 01 Mar 2026 12:00:00 GMT", True),
        ("Sun, 01 Mar 2026 11:59:59 GMT", False),
        ("not a date", False),
        ("Sun, 01 Mar 2026 13:00:00", False),  # no zone: not comparable, so not fresh
    ],
)
def test_if_modified_since_compares_whole_seconds(since: str, fresh: bool) -> None:
    request = _request(If_Modified_Since=since)
    assert not_modified(request, '"a"', last_modified=MODIFIED) is fresh


def test_without_a_last_modified_only_the_etag_counts() -> None:
    request = _request(If_Modified_Since="Sun, 01 Mar 2026 13:00:00 GMT")
    assert not not_modified(request, '"a"')


def test_caching_headers_come_in_one_order() -> None:
    assert list(caching_headers('"a"', "public, max-age=5", last_modified="x", vary="y")) == [
        "ETag",
        "Last-Modified",
        "Cache-Control",
        "Vary",
    ]
