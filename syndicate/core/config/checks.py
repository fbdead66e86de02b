"""The checks of setting values: each takes the value, the setting's name and where it came
from, and returns the value in its type or raises a `ConfigError` of one line naming all three
and what is allowed. Also `redact_url`, the one way a URL with a password is printed.

The names keep the leading underscore they had when settings were one module: they are used
in `syndicate.core.config` (`config/__init__.py`) with lines like
`_seconds(*get("publish_delay")[:2], ...)`.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any
from urllib.parse import urlsplit

from syndicate.core.errors import ConfigError

_SECRET_QUERY = re.compile(r"([?&;][^=&#;]*(?:pass|secret|token)[^=&#;]*=)[^&#;]*", re.I)
_SECRET_PAIR = re.compile(r"(\b\w*(?:pass|secret|token)\w*\s*=\s*)(?:'[^']*'|\S+)", re.I)


def redact_url(url: str) -> str:
    """`url` with every password hidden: the one function for printing a URL anywhere.

    It parses nothing (the URL may be malformed): userinfo runs from `//` to the last `@`,
    so `u:pa@ss@host` and `:pw@host` are covered; query parameters (and `key=value` text)
    whose name mentions a password, secret or token are hidden too.
    """
    text = _SECRET_QUERY.sub(r"\1***", url)
    scheme, sep, rest = text.partition("//")
    if sep and "@" in rest:
        userinfo, _, host = rest.rpartition("@")
        if ":" in userinfo or not host:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        text = f"{scheme}//{userinfo}@{host}"
    return _SECRET_PAIR.sub(r"\1***", text) if not sep else text


def _bad(key: str, where: str, problem: str, allowed: str) -> ConfigError:
    """The one-line error for a bad setting: what, where it came from, what is allowed."""
    return ConfigError(f"{key} (from {where}): {problem}; allowed: {allowed}")


def _int(
    value: Any,
    key: str,
    minimum: int = 0,
    maximum: int = 2**31 - 1,
    where: str = "the settings file",
) -> int:
    allowed = f"a whole number from {minimum} to {maximum}"
    if isinstance(value, bool):
        raise _bad(key, where, f"got {value!r}", allowed)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]{1,30}\s*", value):
        number = int(value)
    else:
        raise _bad(key, where, f"expected a whole number, got {value!r}", allowed)
    if not minimum <= number <= maximum:
        raise _bad(key, where, f"{number} is out of range", allowed)
    return number


def _seconds(
    value: Any, key: str, maximum: float, where: str, *, zero_allowed: bool = False
) -> float:
    allowed = (
        f"seconds from 0 (off) to {maximum:g}"
        if zero_allowed
        else f"seconds, more than 0 and at most {maximum:g}"
    )
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise _bad(key, where, f"expected a number of seconds, got {value!r}", allowed)
    lowest_ok = number >= 0 if zero_allowed else number > 0
    if not lowest_ok or number > maximum:
        raise _bad(key, where, f"{number:g} is out of range", allowed)
    return number


def _bool(value: Any, key: str, where: str = "the settings file") -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise _bad(key, where, f"got {value!r}", "a boolean (1/0, true/false)")


def _text(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise _bad(key, where, f"got {value!r}", "a non-empty string")
    return value


_HOSTNAME = re.compile(r"(?=.{1,253}\Z)(?:(?!-)[A-Za-z0-9-]{1,63}(?<!-)\.?)+\Z")


def _host(value: Any, key: str, where: str) -> str:
    allowed = "an IP address (127.0.0.1, 0.0.0.0, ::) or a host name"
    text = _text(value, key, where).strip()
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    labels = text.rstrip(".").split(".")
    # All-digit labels read as an IPv4 address (999.1.1.1 is no host name): not valid above.
    if _HOSTNAME.match(text) and not labels[-1].isdigit():
        return text
    raise _bad(key, where, f"{text!r} is not an address or host name", allowed)


def _http_url(value: Any, key: str, where: str) -> str:
    allowed = "an absolute http:// or https:// URL"
    text = _text(value, key, where).strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError as exc:
        raise _bad(key, where, f"{redact_url(text)!r}: {exc}", allowed) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(key, where, f"got {redact_url(text)!r}", allowed)
    return text


_DATABASE_ALLOWED = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite:///:memory:"
    " or postgresql://user@host[:port]/database"
)


def _database_url(value: Any, key: str, where: str) -> str:
    text = _text(value, key, where).strip()
    shown = repr(redact_url(text))
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme == "sqlite":
        if text in ("sqlite://", "sqlite:///:memory:"):
            return text
        if not text.startswith("sqlite:///") or len(text) == len("sqlite:///"):
            raise _bad(key, where, f"{shown} is not sqlite:///<path>", _DATABASE_ALLOWED)
        return text
    if scheme in ("postgresql", "postgres"):
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises on a port that is not a number in range
        except ValueError as exc:
            raise _bad(key, where, f"{shown} is malformed ({exc})", _DATABASE_ALLOWED) from None
        if not text.startswith(f"{scheme}://"):
            raise _bad(key, where, f"{shown} is malformed", _DATABASE_ALLOWED)
        return text
    problem = f"unsupported scheme {scheme!r}" if scheme else f"{shown} is not a URL"
    raise _bad(key, where, problem, _DATABASE_ALLOWED)
