"""Partner cursors: round-trip, sealed positions, bound to one partner and section, and a clear
400 for anything we did not issue (the old readable `v1.<seq>.<crc>` form included)."""

from __future__ import annotations

import base64
import re
import secrets
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.core.cursor import KEY_BYTES, CursorKey
from syndicate.core.errors import BadRequest

KEY = CursorKey(b"k" * KEY_BYTES)


@pytest.mark.parametrize("seq", [0, 1, 7, 42, 999, 2**31, 10**15, 2**63 - 1])
def test_cursor_round_trips(seq: int) -> None:
    cursor = KEY.encode(seq, partner=3, section="global")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cursor), cursor
    assert KEY.decode(cursor, partner=3, section="global") == seq


def test_same_position_same_cursor_and_neighbours_look_unrelated() -> None:
    one = KEY.encode(41, partner=1, section="global")
    assert one == KEY.encode(41, partner=1, section="global")  # stable ETags
    two = KEY.encode(42, partner=1, section="global")
    # Sealed: no shared prefix beyond the version byte's character, no readable number.
    assert one[2:12] != two[2:12]
    raw = base64.urlsafe_b64decode(two + "=" * (-len(two) % 4))
    assert (42).to_bytes(8, "big") not in raw


@given(seq=st.integers(0, 2**63 - 1), partner=st.integers(1, 10**6))
def test_any_position_round_trips_and_binds_the_partner(seq: int, partner: int) -> None:
    cursor = KEY.encode(seq, partner=partner, section="india")
    assert KEY.decode(cursor, partner=partner, section="india") == seq
    with pytest.raises(BadRequest):
        KEY.decode(cursor, partner=partner + 1, section="india")
    with pytest.raises(BadRequest):
        KEY.decode(cursor, partner=partner, section="global")


def test_another_key_refuses_the_cursor() -> None:
    cursor = KEY.encode(5, partner=1, section="global")
    with pytest.raises(BadRequest, match="not one this service issued"):
        CursorKey(secrets.token_bytes(KEY_BYTES)).decode(cursor, partner=1, section="global")


def test_every_changed_character_is_refused() -> None:
    cursor = KEY.encode(12345, partner=2, section="global")
    for i in range(len(cursor)):
        for c in "AQgw_-":
            if cursor[i] == c:
                continue
            forged = cursor[:i] + c + cursor[i + 1 :]
            try:
                seq = KEY.decode(forged, partner=2, section="global")
            except BadRequest:
                continue
            # Base64's last character carries padding bits; a change there may decode the same.
            assert seq == 12345 and i == len(cursor) - 1


def test_encode_rejects_negative_seq() -> None:
    with pytest.raises(ValueError):
        KEY.encode(-1, partner=1, section="global")


def test_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError):
        CursorKey(b"short")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _legacy(seq: int) -> str:
    text = f"v1.{seq}.{zlib.crc32(f'v1.{seq}'.encode()):08x}"
    return _b64(text.encode())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("a" * 65, "too long"),
        ("abc def", "only letters"),
        ("abc+/", "only letters"),
        ("abc=", "only letters"),
        ("A", "not one this service issued"),
        (_b64(b"hello"), "not one this service issued"),
        (_legacy(5), "not one this service issued"),
        (_b64(b"\x02" + b"\x00" * 36), "not one this service issued"),
    ],
)
def test_malformed_cursor_is_a_bad_request(text: str, problem: str) -> None:
    with pytest.raises(BadRequest, match=problem):
        KEY.decode(text, partner=1, section="global")
