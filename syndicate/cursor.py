"""Opaque, URL-safe cursors for partners' incremental pulls ("everything since my last pull").

A cursor wraps a change-log `seq` as base64url of `v1.{seq}.{crc}`; the CRC-32 catches typos
and truncation (it is a checksum, not a signature: partners may forge a cursor, which only
lets them re-read what they are entitled to anyway). Whether the seq exists is the caller's
check (`seq > store.max_seq()` is an unknown cursor).
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

from syndicate.errors import BadRequest

CURSOR_VERSION = "v1"
MAX_CURSOR_LENGTH = 64
_CURSOR_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")
_PAYLOAD = re.compile(r"^v1\.(0|[1-9][0-9]{0,18})\.([0-9a-f]{8})$")


def _checksum(seq_text: str) -> str:
    return f"{zlib.crc32(f'{CURSOR_VERSION}.{seq_text}'.encode('ascii')):08x}"


def encode_cursor(seq: int) -> str:
    """The cursor a partner sends back as `?since=` to get the changes after `seq`."""
    if seq < 0:
        raise ValueError(f"cursor seq must be >= 0, got {seq}")
    seq_text = str(seq)
    payload = f"{CURSOR_VERSION}.{seq_text}.{_checksum(seq_text)}"
    return base64.urlsafe_b64encode(payload.encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> int:
    """The seq inside a cursor; `BadRequest` naming the problem when it is malformed."""
    if not text:
        raise BadRequest("cursor: empty")
    if len(text) > MAX_CURSOR_LENGTH:
        raise BadRequest(f"cursor: too long ({len(text)} characters, at most {MAX_CURSOR_LENGTH})")
    if not _CURSOR_CHARS.match(text):
        raise BadRequest("cursor: only letters, digits, '-' and '_' may appear")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload = raw.decode("ascii")
    except (binascii.Error, ValueError):
        raise BadRequest("cursor: not a cursor this service issued (bad encoding)") from None
    match = _PAYLOAD.match(payload)
    if match is None:
        raise BadRequest("cursor: not a cursor this service issued (unknown format)")
    seq_text, check = match.groups()
    if check != _checksum(seq_text):
        raise BadRequest("cursor: checksum mismatch (mistyped or truncated?)")
    return int(seq_text)
