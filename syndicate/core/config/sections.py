"""Sections: the `[sections.<slug>]` tables of the configuration, checked and made `Section`s
(a slug, titles and descriptions per language, feed limits). `ALL_SECTION` is the slug of
every section together, which no declared section may take.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syndicate.core.config.checks import _bad, _int, _text
from syndicate.core.quickpickle import quick_pickle

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
ALL_SECTION = "all"
# Not section slugs: `/feeds/tag/…` and `/feeds/author/…` are the tag and author feeds.
RESERVED_SLUGS = frozenset({ALL_SECTION, "tag", "author"})
DEFAULT_LIMIT = 50
DEFAULT_MAX_BYTES = 1024 * 1024


@quick_pickle()
@dataclass(frozen=True, slots=True)
class Section:
    """A declared section: its slug, titles and descriptions per language, feed limits."""

    slug: str
    title: Mapping[str, str]
    description: Mapping[str, str]
    language: str = "en"
    limit: int = DEFAULT_LIMIT
    max_bytes: int = DEFAULT_MAX_BYTES

    def title_in(self, language: str | None = None) -> str:
        """The title in `language`, else the section's own language, else any."""
        return _pick(self.title, language or self.language) or self.slug

    def description_in(self, language: str | None = None) -> str:
        return _pick(self.description, language or self.language) or self.title_in(language)


def _pick(texts: Mapping[str, str], language: str) -> str:
    if language in texts:
        return texts[language]
    primary = language.split("-")[0]
    if primary in texts:
        return texts[primary]
    if "en" in texts:
        return texts["en"]
    return next(iter(texts.values()), "")


def _texts(value: Any, key: str, where: str = "the settings file") -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    raise _bad(key, where, f"got {value!r}", "a string or a table of language = text")


_SECTION_KEYS = {"title", "description", "language", "limit", "max_bytes"}


def parse_sections(table: Any, where: str = "the settings file") -> tuple[Section, ...]:
    if not isinstance(table, dict):
        raise _bad("sections", where, f"got {table!r}", "a table of [sections.<slug>] tables")
    sections = []
    for slug, body in table.items():
        key = f"sections.{slug}"
        if not SLUG_RE.fullmatch(slug) or slug in RESERVED_SLUGS:
            raise _bad(
                key,
                where,
                "not a usable slug",
                "lowercase letters, digits and '-', not 'all', 'tag' or 'author'",
            )
        if not isinstance(body, dict):
            raise _bad(key, where, f"got {body!r}", "a table")
        unknown = set(body) - _SECTION_KEYS
        if unknown:
            raise _bad(
                key,
                where,
                f"unknown key(s) {', '.join(sorted(unknown))}",
                ", ".join(sorted(_SECTION_KEYS)),
            )
        title = _texts(body.get("title", slug), f"{key}.title", where)
        sections.append(
            Section(
                slug=slug,
                title=title,
                description=_texts(body.get("description", title), f"{key}.description", where),
                language=_text(body.get("language", "en"), f"{key}.language", where),
                limit=_int(body.get("limit", DEFAULT_LIMIT), f"{key}.limit", 1, 10_000, where),
                max_bytes=_int(
                    body.get("max_bytes", DEFAULT_MAX_BYTES), f"{key}.max_bytes", 4096, 2**30, where
                ),
            )
        )
    return tuple(sections)
