"""Partner cursors: round-trip, URL safety, and a clear 400 for anything we did not issue."""

from __future__ import annotations

import base64
import re

import pytest

from syndicate.cursor import decode_cursor, encode_cursor
from syndicate.errors import BadRequest


@pytest.mark.parametrize("seq", [0, 1, 7, 42, 999, 2**31, 10**15])
def test_cursor_round_trips(seq: int) -> None:
    cursor = encode_cursor(seq)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor), cursor
    assert decode_cursor(cursor) == seq


def test_cursor_is_opaque() -> None:
    assert "42" not in encode_cursor(42)


def test_encode_rejects_negative_seq() -> None:
    with pytest.raises(ValueError):
        encode_cursor(-1)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("a" * 65, "too long"),
        ("abc def", "only letters"),
        ("abc+/", "only letters"),
        ("abc=", "only letters"),
        ("A", "bad encoding"),
        (_b64("v2.5.00000000"), "unknown format"),
        (_b64("v1.-5.00000000"), "unknown format"),
        (_b64("v1.05.00000000"), "unknown format"),
        (_b64("hello"), "unknown format"),
        (_b64("v1.5.00000000"), "checksum"),
    ],
)
def test_malformed_cursor_is_a_bad_request(text: str, problem: str) -> None:
    with pytest.raises(BadRequest) as info:
        decode_cursor(text)
    assert info.value.status == 400
    assert problem in info.value.message
    assert info.value.message.startswith("cursor: ")


def test_a_typo_is_detected() -> None:
    cursor = encode_cursor(123456)
    for i in range(len(cursor)):
        replacement = "A" if cursor[i] != "A" else "B"
        mistyped = cursor[:i] + replacement + cursor[i + 1 :]
        try:
            seq = decode_cursor(mistyped)
        except BadRequest:
            continue
        # A change confined to the padding bits of the last character decodes identically.
        assert seq == 123456


def test_truncated_cursor_is_rejected() -> None:
    cursor = encode_cursor(987654)
    for end in range(1, len(cursor)):
        with pytest.raises(BadRequest):
            decode_cursor(cursor[:end])
