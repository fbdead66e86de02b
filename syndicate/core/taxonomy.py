"""How readers address a tag or an author in a URL: the tag key, the author slug, the path segment.

Pure functions of text, shared by the store (its indexes), the renderers and the web layer, so
that a URL, an index row and a feed's self link always agree. No I/O.
"""

from __future__ import annotations

import functools
import unicodedata
from urllib.parse import quote

# Long enough for any real byline or keyword; a bound, so an index key stays small.
MAX_KEY_CHARS = 100


# Cached: indexing a bulk import asks for the same few tags and names thousands of times.
@functools.lru_cache(maxsize=65_536)
def tag_key(tag: str) -> str:
    """The form a tag is looked up by: NFKC, case-folded, inner white space one space.

    `Sensex`, `SENSEX` and ` sensex ` are one tag; `रूस` stays `रूस` (no case in Devanagari,
    and NFKC keeps its combining marks). Tags are otherwise kept as written: spaces and
    punctuation are part of the tag, and the URL percent-encodes them.
    """
    text = unicodedata.normalize("NFKC", tag).casefold()
    return " ".join(text.split())[:MAX_KEY_CHARS]


@functools.lru_cache(maxsize=65_536)
def author_slug(name: str) -> str:
    """An author's slug: the name, NFKC and case-folded, every run of characters that are not
    letters, combining marks or digits (spaces, punctuation, symbols) turned into one `-`.

    Unicode-aware: `राम शर्मा` is `राम-शर्मा` (the vowel signs are marks, kept), `Jane <Doe>`
    is `jane-doe`, `O'Brien` is `o-brien`. Names that give the same slug share a feed. A name
    with no letter or digit has no slug (`""`) and no feed.
    """
    out: list[str] = []
    for char in unicodedata.normalize("NFKC", name).casefold():
        if unicodedata.category(char)[0] in "LMN":
            out.append(char)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")[:MAX_KEY_CHARS].strip("-")


def path_segment(text: str) -> str:
    """`text` as one URL path segment: UTF-8, percent-encoded, `/` included (RFC 3986)."""
    return quote(text, safe="")
