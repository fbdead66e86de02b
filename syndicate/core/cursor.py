"""Opaque, authenticated cursors for partners' incremental pulls ("everything since my last pull").

A cursor is the change-log position encrypted with AES-GCM and bound, as associated data,
to the partner's token and the section. Another partner's cursor, another section's, or
one changed by hand fails authentication (400). The position itself is sealed, so a
partner cannot count the changes of sections it does not see. The nonce comes from the
key and the plaintext (the SIV idea): the same position gives the same cursor, so pages
keep stable ETags with no random state. The 32-byte key is kept in the store, the same
for every process, and is never shown.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from syndicate.core.errors import BadRequest

CURSOR_KEY_NAME = "partner-cursor"
KEY_BYTES = 32
MAX_CURSOR_LENGTH = 64
_VERSION = b"\x02"  # v1 was a readable `v1.<seq>.<crc32>`: refused, it could be forged
_NONCE = 12
_CURSOR_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")
_FORGED = (
    "cursor: not one this service issued to this partner for this section; "
    "pull again without `since` to start over"
)


class CursorKey:
    """Seals and opens cursors with one key; `partner` and `section` are bound to each."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a cursor key has {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)
        # A separate key for nonces, so the nonce never reveals anything keyed by the other.
        self._nonce_key = hmac.digest(key, b"cursor nonce", "sha256")

    @staticmethod
    def _bound(partner: int, section: str) -> bytes:
        return _VERSION + f"{partner}:{section}".encode()

    def encode(self, seq: int, *, partner: int, section: str) -> str:
        """The cursor `partner` sends back as `?since=` to get `section`'s changes after `seq`."""
        if seq < 0:
            raise ValueError(f"cursor seq must be >= 0, got {seq}")
        plain = struct.pack(">Q", seq)
        bound = self._bound(partner, section)
        nonce = hmac.digest(self._nonce_key, bound + plain, "sha256")[:_NONCE]
        sealed = _VERSION + nonce + self._aead.encrypt(nonce, plain, bound)
        return base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")

    def decode(self, text: str, *, partner: int, section: str) -> int:
        """The position inside a cursor; `BadRequest` naming the problem when it is not ours."""
        if not text:
            raise BadRequest("cursor: empty")
        if len(text) > MAX_CURSOR_LENGTH:
            raise BadRequest(
                f"cursor: too long ({len(text)} characters, at most {MAX_CURSOR_LENGTH})"
            )
        if not _CURSOR_CHARS.match(text):
            raise BadRequest("cursor: only letters, digits, '-' and '_' may appear")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise BadRequest(_FORGED) from None
        if len(raw) != 1 + _NONCE + 8 + 16 or raw[:1] != _VERSION:
            raise BadRequest(_FORGED)
        nonce, sealed = raw[1 : 1 + _NONCE], raw[1 + _NONCE :]
        try:
            plain = self._aead.decrypt(nonce, sealed, self._bound(partner, section))
        except InvalidTag:
            raise BadRequest(_FORGED) from None
        (seq,) = struct.unpack(">Q", plain)
        return int(seq)


def opaque_id(*parts: str) -> str:
    """A short stable name for a page (ETags, NewsML `transmitId`) made of opaque parts."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]
