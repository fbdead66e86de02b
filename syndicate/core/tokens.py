"""Bearer tokens: generated once, shown once, stored only as a SHA-256 hash.

Tokens carry 256 bits of randomness, so a plain (unsalted) SHA-256 is enough to make the
stored hash useless to a thief; lookups go by hash, then compare in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

PREFIX = "syn_"
# Anything that looks like one of our secrets, wherever a client put it (a URL, a path).
_SECRET_RE = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_-]{8,}")


def new_token() -> tuple[str, str]:
    """A fresh secret and the hash to store."""
    secret = PREFIX + secrets.token_urlsafe(32)
    return secret, hash_token(secret)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


MAX_NAME_LENGTH = 100
_DURATION = re.compile(r"^([1-9][0-9]{0,5})([mhdw])$")
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_LIFETIME = timedelta(days=3660)  # ten years: beyond that, "never" is the honest word


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`, `2w`: how long a token lives; ValueError naming the forms."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a lifetime: use a number and m, h, d or w, e.g. 30d")
    lifetime = timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2)])
    if lifetime > MAX_LIFETIME:
        raise ValueError(f"{text!r} is longer than ten years; leave it out for no expiry")
    return lifetime


def redact_secrets(text: str) -> str:
    """`text` with every token-shaped secret replaced, for logs."""
    return _SECRET_RE.sub(PREFIX + "[redacted]", text)


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))
