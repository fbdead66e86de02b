"""What no schema can say: real instants, order of dates, BCP 47 tags, declared sections, URLs
with a host, the body's size in bytes, and text that XML 1.0 can carry.

Each check yields `FieldError`s named by JSON pointer, and skips a path the schema already
found at fault (one message per path).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import langcodes

from syndicate.core.config import Settings
from syndicate.core.errors import FieldError
from syndicate.core.model import parse_time
from syndicate.validate.messages import field_error, pointer, short

MAX_BODY_BYTES = 1024 * 1024
TIME_FIELDS = ("published", "updated", "embargo_until", "first_created", "version_created")

# Characters XML 1.0 cannot carry (lone surrogates only exist in str after lax JSON decoding).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def beyond_schema(
    record: Mapping[str, Any], settings: Settings, at_fault: set[str]
) -> Iterator[FieldError]:
    """Every problem the schema cannot see, outside the paths in `at_fault`."""
    times: dict[str, datetime] = {}
    for name in TIME_FIELDS:
        value = record.get(name)
        if type(value) is str and f"/{name}" not in at_fault:
            try:
                instant = parse_time(value)
            except ValueError as exc:
                yield field_error(f"/{name}", f"is not a real date-time ({exc})")
                continue
            try:
                # Stores, schedulers and feeds all work in UTC: it must exist there too.
                times[name] = instant.astimezone(UTC)
            except OverflowError:
                yield field_error(f"/{name}", f"is outside years 1–9999 in UTC (got {value!r})")
    if "updated" in times and "published" in times and times["updated"] < times["published"]:
        yield field_error("/updated", f"is before published ({record['published']})")

    language = record.get("language")
    if type(language) is str and "/language" not in at_fault and not _language_ok(language):
        yield field_error("/language", f"{short(language)} is not a valid BCP 47 tag (e.g. 'hi')")

    sections = record.get("sections")
    if type(sections) is list:
        for index, slug in enumerate(sections):
            path = f"/sections/{index}"
            if type(slug) is str and path not in at_fault and settings.section(slug) is None:
                declared = ", ".join(settings.section_slugs) or "none"
                yield field_error(path, f"{short(slug)} is not a declared section ({declared})")

    for path, url in _urls(record):
        if path not in at_fault:
            try:
                host = urlsplit(url).hostname
            except ValueError as exc:
                yield field_error(path, f"is not a valid URL ({exc})")
                continue
            if not host:
                yield field_error(path, "must be an absolute http(s) URL with a host")

    body = record.get("body_html")
    # Cheap first: a string of n characters is at most 4n bytes in UTF-8.
    if type(body) is str and len(body) * 4 > MAX_BODY_BYTES and "/body_html" not in at_fault:
        size = len(body.encode("utf-8", "surrogatepass"))
        if size > MAX_BODY_BYTES:
            message = f"is too large: {size} bytes, at most {MAX_BODY_BYTES}"
            yield field_error("/body_html", message)


@functools.lru_cache(maxsize=1024)
def _language_ok(tag: str) -> bool:
    # The schema's pattern already rules out '_' and spaces, which langcodes would accept.
    return bool(langcodes.tag_is_valid(tag))


def _urls(record: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    if type(url := record.get("canonical_url")) is str:
        yield "/canonical_url", url
    image = record.get("image")
    if type(image) is dict and type(url := image.get("url")) is str:
        yield "/image/url", url
    for field in ("authors", "related"):
        items = record.get(field)
        if type(items) is list:
            for index, item in enumerate(items):
                if type(item) is dict and type(url := item.get("url")) is str:
                    yield f"/{field}/{index}/url", url


def unxmlable(value: Any, path: str, errors: list[FieldError]) -> None:
    """Every string (and key) anywhere that holds a character XML 1.0 cannot carry."""
    if isinstance(value, str):
        # isprintable() is a fast C loop and False for every character we reject (and more).
        if not value.isprintable() and (found := NOT_XML.search(value)) is not None:
            message = f"contains U+{ord(found.group()):04X}, which XML 1.0 cannot carry"
            errors.append(field_error(path, message))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and item.isprintable() and key.isprintable():
                continue  # the common case, without building a path
            here = path + pointer([key])
            if not key.isprintable() and NOT_XML.search(key):
                message = "the field name holds a character XML 1.0 cannot carry"
                errors.append(field_error(here, message))
            unxmlable(item, here, errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if not (isinstance(item, str) and item.isprintable()):
                unxmlable(item, f"{path}/{index}", errors)
