"""Test settings: the sections tests use, one builder of `Settings` (overrides by keyword),
and the same as a `syndicate.toml` for tests that run the command.

Nothing here reads the working directory or the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from syndicate.core.config import Settings, settings_from_mapping

BASE_URL = "https://news.example"
# A plain-HTTP base: the desk's cookie is then not `Secure`, so the test client (plain HTTP
# on loopback) sends it back.
HTTP_BASE_URL = "http://127.0.0.1:8080"

SECTIONS: dict[str, Any] = {
    "global": {"title": {"en": "Global", "hi": "वैश्विक"}, "language": "hi"},
    "top-story": {"title": {"en": "Top Story", "hi": "मुख्य खबर"}, "language": "hi"},
    "india": {"title": {"en": "India", "hi": "भारत"}, "language": "hi"},
    "business": {"title": {"en": "Business", "hi": "व्यापार"}},
    "technology": {"title": {"en": "Technology", "hi": "तकनीक"}},
    "sport": {"title": {"en": "Sport", "hi": "खेल"}},
}
# The test sections plus one written right to left (the readers' pages).
READER_SECTIONS: dict[str, Any] = {
    **SECTIONS,
    "arab-world": {
        "title": {"ar": "العالم العربي", "en": "Arab world"},
        "description": {"ar": "أخبار المنطقة العربية", "en": "News from the Arab world"},
        "language": "ar",
    },
}
# The desk's site in the browser tests: Hindi sections, one written right to left, one English.
DESK_SECTIONS: dict[str, Any] = {
    "global": SECTIONS["global"],
    "top-story": SECTIONS["top-story"],
    "world": {"title": {"en": "World", "ar": "العالم"}, "language": "ar"},
    "business": {"title": "Business"},
}


def build_settings(
    tmp_path: Path | None = None, *, sections: Mapping[str, Any] = SECTIONS, **overrides: Any
) -> Settings:
    """The test sections at `BASE_URL`, with an hourly timer (it never fires during a test
    unless the test asks); with `tmp_path`, a SQLite store and a feeds folder inside it.
    `overrides` replace any setting."""
    values: dict[str, Any] = {"base_url": BASE_URL, "regen_interval": 3600}
    if tmp_path is not None:
        values["database_url"] = f"sqlite:///{tmp_path / 'store.db'}"
        values["feeds_dir"] = str(tmp_path / "feeds")
    values.update(overrides)
    return settings_from_mapping({"sections": dict(sections)}, environ={}, **values)


def config_toml(sections: Mapping[str, Any] = SECTIONS, **values: Any) -> str:
    """A `syndicate.toml`: `values` in its [syndicate] table, then the sections."""
    return tomli_w.dumps({"syndicate": values, "sections": dict(sections)})


def store_config_toml(tmp_path: Path, **values: Any) -> str:
    """A `syndicate.toml` with the test sections at `BASE_URL`, its SQLite store (`s.db`) and
    feeds folder in `tmp_path`."""
    return config_toml(
        database_url=f"sqlite:///{tmp_path / 's.db'}",
        feeds_dir=str(tmp_path / "feeds"),
        base_url=BASE_URL,
        **values,
    )
