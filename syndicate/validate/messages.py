"""What jsonschema found, in the newsroom's words: one `FieldError` per problem, its path a
JSON pointer, its message saying what the field must be (and what it got, shortened).

Also the rank that decides which message a path keeps when several problems share it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from jsonschema import ValidationError

from syndicate.core.errors import FieldError
from syndicate.validate.fast import json_key
from syndicate.validate.schemas import load_schema

_TIME_HINT = (
    "must be an RFC 3339 date-time with a UTC offset (Z or ±hh:mm), e.g. 2024-06-19T10:00:00+05:30"
)
_PATTERN_HINTS = {
    "^(?!\\.+$)[A-Za-z0-9._-]{1,128}$": "must be 1–128 letters, digits, '.', '_' or '-'",
    "\\S": "must not be blank",
    "^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$": "is not a BCP 47 language tag (e.g. 'hi', 'en-GB')",
    "^[a-z0-9][a-z0-9-]{0,63}$": "is not a section slug (lowercase letters, digits, '-')",
    "^medtop:[0-9]{8}$": "must be an IPTC Media Topic qcode like 'medtop:11000000'",
    "^image/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$": "must be an image media type like image/jpeg",
    "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$": "is not an e-mail address",
    "^\\S(?:[^\\r\\n]*\\S)?$": "must not be blank, hold a line break or end in whitespace",
}
_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "object": "a JSON object",
    "array": "a JSON array",
    "boolean": "true or false",
}

# Which message a path keeps when it has several: what it is, then how big, then its form.
RANK = {
    "type": 0,
    "required": 0,
    "additionalProperties": 0,
    "minLength": 1,
    "maxLength": 1,
    "minItems": 1,
    "maxItems": 1,
    "pattern": 2,
    "enum": 2,
    "minimum": 2,
    "maximum": 2,
    "uniqueItems": 3,
    "anyOf": 0,
}
RANK_OTHER = 4
RANK_BEYOND = 5  # what no schema can say (`rules`)


def pointer(parts: Any) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _safe(text: str) -> str:
    # Lone surrogates in an error message would break the UTF-8 response that carries it.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def field_error(path: str, message: str) -> FieldError:
    """A `FieldError` safe to put in a UTF-8 response, whatever the input held."""
    return FieldError(_safe(path), _safe(message))


def short(value: Any) -> str:
    """A value as quoted in a message, cut to about 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def bound_error(path: str, keyword: str, limit: int, size: int) -> FieldError:
    """The message for a bound `bounds` found broken (too many items, too long)."""
    if keyword == "maxItems":
        return field_error(path, f"has {size} items, at most {limit}")
    return field_error(path, f"is too long: {size} characters, at most {limit}")


@functools.cache
def _pattern_hints() -> dict[str, str]:
    shared = load_schema()["$defs"]
    return {
        **_PATTERN_HINTS,
        shared["date_time"]["pattern"]: _TIME_HINT,
        shared["http_url"]["pattern"]: _URL_HINT,
    }


def _pattern_message(pattern: str, value: str) -> str:
    hints = _pattern_hints()
    if hints.get(pattern) == _URL_HINT and (bad := _NOT_URI.search(value)) is not None:
        char = bad.group()
        where = f"{short(char)} at character {bad.start() + 1}"
        return f"is not an RFC 3986 URI: {where} must be percent-encoded (got {short(value)})"
    if pattern == load_schema()["properties"]["id"]["pattern"] and _DOTS.fullmatch(value):
        return f"must not be only dots: {short(value)} folds into another path in URLs"
    hint = hints.get(pattern)
    return f"{hint or 'does not match ' + pattern} (got {short(value)})"


_URL_HINT = "must be an absolute http(s) URL (RFC 3986)"
# ASCII that RFC 3986 never allows raw, or a '%' that starts no %XX escape.
_NOT_URI = re.compile(r'[\x00-\x20\x7f"<>\\^`{|}]|%(?![0-9A-Fa-f]{2})')
_DOTS = re.compile(r"\.+")


def describe(error: ValidationError) -> Iterator[FieldError]:
    """The `FieldError`s one jsonschema error stands for (`required` may name several)."""
    path = pointer(error.absolute_path)
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "required":
        for name in expected:
            if name not in value:
                yield field_error(f"{path}/{name}", "is required")
    elif keyword == "additionalProperties":
        known = error.schema.get("properties", {})
        for name in value:
            if name not in known:
                yield field_error(pointer([*error.absolute_path, name]), "is not a known field")
    elif keyword == "type":
        yield field_error(path, f"must be {_TYPE_WORDS.get(str(expected), str(expected))}")
    elif keyword in ("minLength", "minItems"):
        unit = "chars" if keyword == "minLength" else "items"
        message = "must not be empty" if expected == 1 else f"needs {expected}+ {unit}"
        yield field_error(path, message)
    elif keyword == "maxLength":
        yield field_error(path, f"is too long: {len(value)} characters, at most {expected}")
    elif keyword == "pattern":
        yield field_error(path, _pattern_message(expected, value))
    elif keyword == "maxItems":
        yield field_error(path, f"has {len(value)} items, at most {expected}")
    elif keyword == "uniqueItems":
        yield from _duplicates(error.absolute_path, value)
    elif keyword == "minimum":
        yield field_error(path, f"must be at least {expected}")
    elif keyword == "maximum":
        yield field_error(path, f"must be at most {expected}")
    elif keyword == "anyOf":  # only `related` items: a link, or a headline without one
        yield field_error(path, "needs a url, or a non-blank title for a story without a link")
    elif keyword == "enum":
        yield field_error(path, "must be one of " + ", ".join(map(str, expected)))
    else:
        yield field_error(path, error.message)


def _duplicates(parts: Any, items: list[Any]) -> Iterator[FieldError]:
    first: dict[Any, int] = {}  # by hash: linear where pairwise comparison is quadratic
    for index, item in enumerate(items):
        earlier = first.setdefault(json_key(item), index)
        if earlier != index:
            where = pointer([*parts, earlier])
            yield field_error(pointer([*parts, index]), f"repeats {short(item)} from {where}")
