"""Validating an article record: the order of the checks, and the record they give back.

Returns the normalised record (store-owned fields dropped, `body_html` sanitised) or every
problem found, each with the JSON pointer of the field at fault. No I/O beyond the schema file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syndicate.core.config import Settings
from syndicate.core.errors import FieldError, InvalidArticle
from syndicate.core.model import STORE_FIELDS
from syndicate.validate.bounds import bounded
from syndicate.validate.fast import fast_check
from syndicate.validate.messages import (
    RANK,
    RANK_BEYOND,
    RANK_OTHER,
    bound_error,
    describe,
    pointer,
)
from syndicate.validate.rules import beyond_schema, unxmlable
from syndicate.validate.sanitise import clean_body
from syndicate.validate.schemas import ecma_pattern, load_schema, validator

MAX_HEADLINE_CHARS = 300
MAX_SECTIONS = 20
INTEGER_FIELDS = ("width", "height", "length")


def validate_record(raw: Any, settings: Settings) -> dict[str, Any]:
    """Return the normalised record (body sanitised) or raise `InvalidArticle`."""
    record, errors = check_record(raw, settings)
    if record is None:
        raise InvalidArticle(errors)
    return record


def check_record(raw: Any, settings: Settings) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """Like `validate_record` without raising: `(record, [])` or `(None, errors)`.

    Sizes and counts come first, and the rest runs on the record cut to them, so a record of
    any size costs about what a valid one does. One message per path: the first problem found
    there in the order of `RANK` (a blank headline is "must not be empty", not that and more).
    """
    if not isinstance(raw, dict):
        return None, [FieldError("", "expected a JSON object")]
    cut, bounds = bounded()(raw)
    errors: dict[str, tuple[int, FieldError]] = {}

    def add(rank: int, found: FieldError) -> None:
        if found.path not in errors or rank < errors[found.path][0]:
            errors[found.path] = (rank, found)

    for parts, keyword, limit, size in bounds:
        add(RANK[keyword], bound_error(pointer(parts), keyword, limit, size))
    if bounds or not fast_check()(cut):
        for error in validator().iter_errors(cut):
            for found in describe(error):
                add(RANK.get(str(error.validator), RANK_OTHER), found)
    for found in beyond_schema(cut, settings, set(errors)):
        add(RANK_BEYOND, found)
    not_xml: list[FieldError] = []
    unxmlable(cut, "", not_xml)
    for found in not_xml:
        add(RANK_BEYOND, found)
    if errors:
        return None, sorted((e for _, e in errors.values()), key=lambda e: (e.path, e.message))
    body = clean_body(raw["body_html"])
    if isinstance(body, FieldError):
        return None, [body]
    return _normalise(raw, body), []


def is_article_id(value: str) -> bool:
    """Whether `value` could be a stored article's id (the schema's pattern, whole string)."""
    return ecma_pattern(load_schema()["properties"]["id"]["pattern"]).search(value) is not None


def _normalise(raw: Mapping[str, Any], body: str) -> dict[str, Any]:
    # A fresh top-level dict: the caller's object is never modified.
    record = {k: v for k, v in raw.items() if k not in STORE_FIELDS}
    record["body_html"] = body
    image = record.get("image")
    if image is not None and any(type(image.get(k)) is float for k in INTEGER_FIELDS):
        record["image"] = {
            k: int(v) if k in INTEGER_FIELDS and type(v) is float else v for k, v in image.items()
        }
    if type(record.get("urgency")) is float:
        record["urgency"] = int(record["urgency"])
    return record
