"""Headline words for the desk's search: one normalisation for what is indexed and what is asked.

A word is a run of letters, combining marks and digits (Devanagari vowel signs and viramas are
marks: splitting on them would cut every Hindi word apart). Text is NFKC-normalised (so a
precomposed nukta letter and its two-code-point spelling are one word) and case-folded;
Arabic short-vowel marks and the tatweel are dropped, as readers rarely type them.
"""

from __future__ import annotations

import unicodedata

MAX_QUERY_WORDS = 8
# The largest code point: `word < prefix + TOP` holds for every word that starts with `prefix`,
# so a prefix search is one index range in both databases (bytewise UTF-8 order).
TOP = "\U0010ffff"
_ARABIC_MARKS = frozenset(chr(c) for c in [*range(0x064B, 0x0660), 0x0670, 0x0640])


def words(text: str) -> list[str]:
    """The distinct words of `text`, normalised, in order of first appearance."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    found: dict[str, None] = {}
    current: list[str] = []
    for char in folded:
        if char in _ARABIC_MARKS:
            continue
        if unicodedata.category(char)[0] in "LMN":
            current.append(char)
        elif current:
            found["".join(current)] = None
            current = []
    if current:
        found["".join(current)] = None
    return list(found)


def query_words(q: str) -> list[str]:
    """The words of a search, at most `MAX_QUERY_WORDS` (each matches headline words it begins)."""
    return words(q)[:MAX_QUERY_WORDS]
