"""XML written as bytes: escaping exactly as libxml2 serialises a tree, for the feeds' items.

A feed's items are most of its bytes and most of a cold render's cost. Built as lxml trees
and serialised, an RSS item cost ~75 µs on the bench's articles; written as bytes here,
escaped with `bytes.replace` (a pass in C each), ~37 µs. The bytes stay those lxml writes
(a test holds these functions and the items to lxml's serialiser over generated text), and
so do its refusals: a string XML cannot carry raises `ValueError` as lxml does, so the
renderers' callers quarantine that one article as before. (A `re` scan of a 6 KB body for
those characters cost ~50 µs, more than the rest of its escaping: `bytes.translate` deletes
them in C.)
"""

from __future__ import annotations

from functools import lru_cache

# What lxml refuses in text and attributes: C0 controls other than tab, newline and carriage
# return, and U+FFFE/U+FFFF. A lone surrogate fails at UTF-8 encoding.
_CONTROLS = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))


def _utf8(value: str) -> bytes:
    data = value.encode()
    if "\ufffe" in value or "\uffff" in value or len(data.translate(None, _CONTROLS)) != len(data):
        raise ValueError(
            "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control "
            "characters"
        )
    return data


def text(value: str) -> bytes:
    """Character data as libxml2 writes it: `&`, `<`, `>` and carriage return escaped."""
    return (
        _utf8(value)
        .replace(b"&", b"&amp;")
        .replace(b"<", b"&lt;")
        .replace(b">", b"&gt;")
        .replace(b"\r", b"&#13;")
    )


def attr(value: str) -> bytes:
    """An attribute value (inside double quotes) as libxml2 writes it: as text, and the
    quote, newline and tab too."""
    return text(value).replace(b'"', b"&quot;").replace(b"\n", b"&#10;").replace(b"\t", b"&#9;")


# A story's body is most of its item's bytes, and RSS and Atom escape the same body one after
# the other (a section's RSS items, then its Atom entries): kept for the second (~17 us of a
# Hindi body's encoding and escaping). Its hash is already made (an article's hash covers it).
body_text = lru_cache(maxsize=128)(text)


def element(tag: bytes, value: str) -> bytes:
    """`<tag>value</tag>`, the value escaped."""
    return b"<" + tag + b">" + text(value) + b"</" + tag + b">"


def split_at(document: bytes, closing: bytes) -> tuple[bytes, bytes]:
    """A document without items cut where its items go: before the root's last `closing`
    tag (`</channel>`, `</feed>`), which only the element itself can write (text is escaped).
    """
    at = document.rindex(closing)
    return document[:at], document[at:]
