"""Shared fixtures: settings built from data (never from the working directory)."""

from __future__ import annotations

import pytest

from syndicate.config import Settings, settings_from_mapping

# The store backends (SQLite always; PostgreSQL when SYNDICATE_TEST_DATABASE_URL is set),
# and the partner endpoints' test client.
pytest_plugins = ["tests.store_fixtures", "tests.partner_http", "tests.browser"]

# The sections of syndicate.toml, declared here so tests do not depend on the cwd.
SECTIONS = {
    "global": {"title": {"en": "Global", "hi": "वैश्विक"}, "language": "hi"},
    "top-story": {"title": {"en": "Top Story", "hi": "मुख्य खबर"}, "language": "hi"},
    "india": {"title": {"en": "India", "hi": "भारत"}, "language": "hi"},
    "business": {"title": {"en": "Business", "hi": "व्यापार"}},
    "technology": {"title": {"en": "Technology", "hi": "तकनीक"}},
    "sport": {"title": {"en": "Sport", "hi": "खेल"}},
}


@pytest.fixture
def settings() -> Settings:
    return settings_from_mapping({"sections": SECTIONS}, environ={})
