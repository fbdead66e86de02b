"""Validation of article records: the JSON Schema in `schemas/`, then what a schema cannot say.

Returns the normalised record (store-owned fields dropped, `body_html` sanitised) or every
problem found, each with the JSON pointer of the field at fault. No I/O beyond the schema file.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import langcodes
import nh3
from jsonschema import ValidationError

from syndicate.config import Settings
from syndicate.errors import FieldError, InvalidArticle
from syndicate.model import STORE_FIELDS, parse_time
from syndicate.schema import (
    bounded,
    ecma_pattern,
    fast_check,
    json_key,
    load_schema,
    validator,
)

MAX_HEADLINE_CHARS = 300
MAX_BODY_BYTES = 1024 * 1024
MAX_SECTIONS = 20
# NewsML's HTML parser (lxml) silently drops what lies deeper than about 255 levels.
MAX_BODY_TAGS = 10_000
MAX_BODY_REF_COST = 2**29  # character references x body length (see check_record)
MAX_BODY_DEPTH = 100

TIME_FIELDS = ("published", "updated", "embargo_until", "first_created", "version_created")
INTEGER_FIELDS = ("width", "height", "length")

# Characters XML 1.0 cannot carry (lone surrogates only exist in str after lax JSON decoding).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

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
    there in the order of `_RANK` (a blank headline is "must not be empty", not that and more).
    """
    if not isinstance(raw, dict):
        return None, [FieldError("", "expected a JSON object")]
    cut, bounds = bounded()(raw)
    errors: dict[str, tuple[int, FieldError]] = {}

    def add(rank: int, found: FieldError) -> None:
        if found.path not in errors or rank < errors[found.path][0]:
            errors[found.path] = (rank, found)

    for parts, keyword, limit, size in bounds:
        add(_RANK[keyword], _bound_error(pointer(parts), keyword, limit, size))
    if bounds or not fast_check()(cut):
        for error in validator().iter_errors(cut):
            for found in _describe(error):
                add(_RANK.get(str(error.validator), _RANK_OTHER), found)
    for found in _beyond_schema(cut, settings, set(errors)):
        add(_RANK_BEYOND, found)
    unxmlable: list[FieldError] = []
    _unxmlable(cut, "", unxmlable)
    for found in unxmlable:
        add(_RANK_BEYOND, found)
    if errors:
        return None, sorted((e for _, e in errors.values()), key=lambda e: (e.path, e.message))
    # The sanitiser's cost grows with the number of tags (about 7 ms for 10,000 elements on
    # a 1 MiB body, 150 ms and more for a body made only of them): bound it before it runs.
    # Counting `<` (in C) is an upper bound on the tags; an article has hundreds, not tens of
    # thousands.
    if (tags := raw["body_html"].count("<")) > MAX_BODY_TAGS:
        message = f"has {tags} tags (or `<` characters), at most {MAX_BODY_TAGS}"
        return None, [_error("/body_html", message)]
    # Each character reference costs the sanitiser time in proportion to the text that
    # follows it (html5ever: 200,000 `&amp;` took 0.8 s, 5,000 before 1 MB of text 0.17 s),
    # so the number allowed shrinks as the body grows: 512 in 1 MiB, 26,000 in 20 KB.
    length = len(raw["body_html"])
    refs_allowed = MAX_BODY_REF_COST // max(length, 1)
    if (refs := raw["body_html"].count("&")) > refs_allowed:
        message = (
            f"has {refs} character references (`&`) in {length} characters; "
            f"a body this long may have at most {refs_allowed}"
        )
        return None, [_error("/body_html", message)]
    record = _normalise(raw)
    # Sanitising decodes character references: `&#1;` in the body becomes U+0001 only now.
    if (bad := _NOT_XML.search(record["body_html"])) is not None:
        message = f"contains U+{ord(bad.group()):04X} (perhaps as a character reference)"
        return None, [_error("/body_html", message + ", which XML 1.0 cannot carry")]
    body = record["body_html"]
    if body.count("<") > MAX_BODY_DEPTH and (depth := markup_depth(body)) > MAX_BODY_DEPTH:
        message = f"nests markup {depth} levels deep, at most {MAX_BODY_DEPTH}"
        return None, [_error("/body_html", message)]
    return record, []


# Which message a path keeps when it has several: what it is, then how big, then its form.
_RANK = {
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
_RANK_OTHER = 4
_RANK_BEYOND = 5


def _bound_error(path: str, keyword: str, limit: int, size: int) -> FieldError:
    if keyword == "maxItems":
        return _error(path, f"has {size} items, at most {limit}")
    return _error(path, f"is too long: {size} characters, at most {limit}")


# In sanitised HTML every `<` starts a tag (text and attribute values have `&lt;`), names
# are lowercase and every element but the void ones is closed explicitly, so counting
# tags is exact. The group says which: "/" closes, "" opens, a void name does neither.
_TAG = re.compile(r"<(/|(?:br|img|hr|wbr)(?=[\s/>])|)")
_STEP = {"/": -1, "": 1}


def markup_depth(html: str) -> int:
    """How deeply elements nest in sanitised HTML (0 for text only)."""
    # findall, map and accumulate all loop in C: a 1 MiB body of tags costs milliseconds.
    steps = map(_STEP.get, _TAG.findall(html), itertools.repeat(0))
    return max(itertools.accumulate(steps, initial=0))


def is_article_id(value: str) -> bool:
    """Whether `value` could be a stored article's id (the schema's pattern, whole string)."""
    return ecma_pattern(load_schema()["properties"]["id"]["pattern"]).search(value) is not None


def sanitise_html(html: str) -> str:
    """The body's HTML through the news allow-list; idempotent and deterministic."""
    if len(html) <= _CACHED_BODY_CHARS:
        return _sanitise_cached(html)
    return _cleaner().clean(html)


# Sanitising is most of the cost of validation (html5ever parses the whole body); re-posting
# or re-ingesting the same body is common (retries, bulk files, GET-then-PUT), so remember a
# few hundred small ones. Worst case memory: 256 x 16 Ki chars in and out.
_CACHED_BODY_CHARS = 16 * 1024


@functools.lru_cache(maxsize=256)
def _sanitise_cached(html: str) -> str:
    return _cleaner().clean(html)


@functools.cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags={
            *("p", "br", "a", "em", "strong", "b", "i", "u", "s", "q", "cite", "abbr"),
            *("sub", "sup", "span", "code", "pre", "blockquote", "ul", "ol", "li"),
            *("h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "img"),
            *("table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td"),
        },
        # Whole elements dropped with their content, not just unwrapped.
        clean_content_tags={
            *("script", "style", "iframe", "object", "embed", "noscript", "template"),
            *("svg", "math", "applet", "noembed", "noframes", "frameset", "textarea"),
        },
        attributes={
            "*": {"lang", "dir"},
            "a": {"href", "title", "hreflang"},
            "abbr": {"title"},
            "img": {"src", "alt", "width", "height"},
            "th": {"colspan", "rowspan", "scope"},
            "td": {"colspan", "rowspan"},
            "ol": {"start"},
        },
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _normalise(raw: Mapping[str, Any]) -> dict[str, Any]:
    # A fresh top-level dict: the caller's object is never modified.
    record = {k: v for k, v in raw.items() if k not in STORE_FIELDS}
    record["body_html"] = sanitise_html(record["body_html"])
    image = record.get("image")
    if image is not None and any(type(image.get(k)) is float for k in INTEGER_FIELDS):
        record["image"] = {
            k: int(v) if k in INTEGER_FIELDS and type(v) is float else v for k, v in image.items()
        }
    if type(record.get("urgency")) is float:
        record["urgency"] = int(record["urgency"])
    return record


# --- what jsonschema found, in the newsroom's words -------------------------------------------


def pointer(parts: Any) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _safe(text: str) -> str:
    # Lone surrogates in an error message would break the UTF-8 response that carries it.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _error(path: str, message: str) -> FieldError:
    return FieldError(_safe(path), _safe(message))


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
        where = f"{_short(char)} at character {bad.start() + 1}"
        return f"is not an RFC 3986 URI: {where} must be percent-encoded (got {_short(value)})"
    if pattern == load_schema()["properties"]["id"]["pattern"] and _DOTS.fullmatch(value):
        return f"must not be only dots: {_short(value)} folds into another path in URLs"
    hint = hints.get(pattern)
    return f"{hint or 'does not match ' + pattern} (got {_short(value)})"


_URL_HINT = "must be an absolute http(s) URL (RFC 3986)"
# ASCII that RFC 3986 never allows raw, or a '%' that starts no %XX escape.
_NOT_URI = re.compile(r'[\x00-\x20\x7f"<>\\^`{|}]|%(?![0-9A-Fa-f]{2})')
_DOTS = re.compile(r"\.+")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error: ValidationError) -> Iterator[FieldError]:
    path = pointer(error.absolute_path)
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "required":
        for name in expected:
            if name not in value:
                yield _error(f"{path}/{name}", "is required")
    elif keyword == "additionalProperties":
        known = error.schema.get("properties", {})
        for name in value:
            if name not in known:
                yield _error(pointer([*error.absolute_path, name]), "is not a known field")
    elif keyword == "type":
        yield _error(path, f"must be {_TYPE_WORDS.get(str(expected), str(expected))}")
    elif keyword == "minLength":
        yield _error(path, "must not be empty" if expected == 1 else f"needs {expected}+ chars")
    elif keyword == "maxLength":
        yield _error(path, f"is too long: {len(value)} characters, at most {expected}")
    elif keyword == "pattern":
        yield _error(path, _pattern_message(expected, value))
    elif keyword == "minItems":
        yield _error(path, "must not be empty" if expected == 1 else f"needs {expected}+ items")
    elif keyword == "maxItems":
        yield _error(path, f"has {len(value)} items, at most {expected}")
    elif keyword == "uniqueItems":
        yield from _duplicates(error.absolute_path, value)
    elif keyword == "minimum":
        yield _error(path, f"must be at least {expected}")
    elif keyword == "maximum":
        yield _error(path, f"must be at most {expected}")
    elif keyword == "anyOf":  # only `related` items: a link, or a headline without one
        yield _error(path, "needs a url, or a non-blank title for a story without a link")
    elif keyword == "enum":
        yield _error(path, "must be one of " + ", ".join(map(str, expected)))
    else:
        yield _error(path, error.message)


def _duplicates(parts: Any, items: list[Any]) -> Iterator[FieldError]:
    first: dict[Any, int] = {}  # by hash: linear where pairwise comparison is quadratic
    for index, item in enumerate(items):
        earlier = first.setdefault(json_key(item), index)
        if earlier != index:
            where = pointer([*parts, earlier])
            yield _error(pointer([*parts, index]), f"repeats {_short(item)} from {where}")


# --- what no schema can say --------------------------------------------------------------------


def _beyond_schema(
    record: Mapping[str, Any], settings: Settings, at_fault: set[str]
) -> Iterator[FieldError]:
    times: dict[str, datetime] = {}
    for name in TIME_FIELDS:
        value = record.get(name)
        if type(value) is str and f"/{name}" not in at_fault:
            try:
                instant = parse_time(value)
            except ValueError as exc:
                yield _error(f"/{name}", f"is not a real date-time ({exc})")
                continue
            try:
                # Stores, schedulers and feeds all work in UTC: it must exist there too.
                times[name] = instant.astimezone(UTC)
            except OverflowError:
                yield _error(f"/{name}", f"is outside years 1–9999 in UTC (got {value!r})")
    if "updated" in times and "published" in times and times["updated"] < times["published"]:
        yield _error("/updated", f"is before published ({record['published']})")

    language = record.get("language")
    if type(language) is str and "/language" not in at_fault and not _language_ok(language):
        yield _error("/language", f"{_short(language)} is not a valid BCP 47 tag (e.g. 'hi')")

    sections = record.get("sections")
    if type(sections) is list:
        for index, slug in enumerate(sections):
            path = f"/sections/{index}"
            if type(slug) is str and path not in at_fault and settings.section(slug) is None:
                declared = ", ".join(settings.section_slugs) or "none"
                yield _error(path, f"{_short(slug)} is not a declared section ({declared})")

    for path, url in _urls(record):
        if path not in at_fault:
            try:
                host = urlsplit(url).hostname
            except ValueError as exc:
                yield _error(path, f"is not a valid URL ({exc})")
                continue
            if not host:
                yield _error(path, "must be an absolute http(s) URL with a host")

    body = record.get("body_html")
    # Cheap first: a string of n characters is at most 4n bytes in UTF-8.
    if type(body) is str and len(body) * 4 > MAX_BODY_BYTES and "/body_html" not in at_fault:
        size = len(body.encode("utf-8", "surrogatepass"))
        if size > MAX_BODY_BYTES:
            yield _error("/body_html", f"is too large: {size} bytes, at most {MAX_BODY_BYTES}")


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


def _unxmlable(value: Any, path: str, errors: list[FieldError]) -> None:
    """Every string (and key) anywhere that holds a character XML 1.0 cannot carry."""
    if isinstance(value, str):
        # isprintable() is a fast C loop and False for every character we reject (and more).
        if not value.isprintable() and (found := _NOT_XML.search(value)) is not None:
            errors.append(
                _error(path, f"contains U+{ord(found.group()):04X}, which XML 1.0 cannot carry")
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and item.isprintable() and key.isprintable():
                continue  # the common case, without building a path
            here = path + pointer([key])
            if not key.isprintable() and _NOT_XML.search(key):
                errors.append(_error(here, "the field name holds a character XML 1.0 cannot carry"))
            _unxmlable(item, here, errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if not (isinstance(item, str) and item.isprintable()):
                _unxmlable(item, f"{path}/{index}", errors)
