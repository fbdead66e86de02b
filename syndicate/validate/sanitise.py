"""The body's HTML: bounded before the sanitiser runs, sanitised through the news allow-list
(no script, style, event handlers or non-http(s) links), and checked once more after it,
when character references have been decoded and nesting can be counted exactly.
"""

from __future__ import annotations

import functools
import itertools
import re

import nh3

from syndicate.core.errors import FieldError
from syndicate.validate.messages import field_error
from syndicate.validate.rules import NOT_XML

MAX_BODY_TAGS = 10_000
MAX_BODY_REF_COST = 2**29  # character references x body length (see clean_body)
# NewsML's HTML parser (lxml) silently drops what lies deeper than about 255 levels.
MAX_BODY_DEPTH = 100


def clean_body(body: str) -> str | FieldError:
    """The sanitised body, or the one error that stops it (at `/body_html`)."""
    # The sanitiser's cost grows with the number of tags (about 7 ms for 10,000 elements on
    # a 1 MiB body, 150 ms and more for a body made only of them): bound it before it runs.
    # Counting `<` (in C) is an upper bound on the tags; an article has hundreds, not tens of
    # thousands.
    if (tags := body.count("<")) > MAX_BODY_TAGS:
        return field_error(
            "/body_html", f"has {tags} tags (or `<` characters), at most {MAX_BODY_TAGS}"
        )
    # Each character reference costs the sanitiser time in proportion to the text that
    # follows it (html5ever: 200,000 `&amp;` took 0.8 s, 5,000 before 1 MB of text 0.17 s),
    # so the number allowed shrinks as the body grows: 512 in 1 MiB, 26,000 in 20 KB.
    length = len(body)
    refs_allowed = MAX_BODY_REF_COST // max(length, 1)
    if (refs := body.count("&")) > refs_allowed:
        message = (
            f"has {refs} character references (`&`) in {length} characters; "
            f"a body this long may have at most {refs_allowed}"
        )
        return field_error("/body_html", message)
    clean = sanitise_html(body)
    # Sanitising decodes character references: `&#1;` in the body becomes U+0001 only now.
    if (bad := NOT_XML.search(clean)) is not None:
        message = f"contains U+{ord(bad.group()):04X} (perhaps as a character reference)"
        return field_error("/body_html", message + ", which XML 1.0 cannot carry")
    if clean.count("<") > MAX_BODY_DEPTH and (depth := markup_depth(clean)) > MAX_BODY_DEPTH:
        return field_error(
            "/body_html", f"nests markup {depth} levels deep, at most {MAX_BODY_DEPTH}"
        )
    return clean


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
