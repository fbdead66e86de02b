"""Where tests find files: this checkout, its test data, and `../shared` beside it (the IPTC
conformance schemas and the corpus); and the one rule for a shared file that is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
ARTICLE_FIXTURES = FIXTURES / "articles"  # valid/ and invalid/ records
SHARED = ROOT.parent / "shared"
CONFORMANCE = SHARED / "conformance"
NEWSML_DIR = CONFORMANCE / "newsml-g2"
NEWSML_XSD = NEWSML_DIR / "NewsML-G2_2.35-spec-All-Power.xsd"
NINJS_DIR = CONFORMANCE / "ninjs"
NINJS_SCHEMA = NINJS_DIR / "ninjs-schema_2.2.json"
SEED_PAGE = SHARED / "corpus" / "scraped-article-hi.txt"

REQUIRE_ENV = "SYNDICATE_REQUIRE_CONFORMANCE"


def require_shared(path: Path) -> Path:
    """`path`, when it is there; else skip the test, or fail it when CI sets
    SYNDICATE_REQUIRE_CONFORMANCE=1 (a missing file must not pass as a skip there)."""
    if path.exists():
        return path
    reason = f"{path.name} not found at {path} (expected in ../shared beside the checkout)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} and {REQUIRE_ENV}=1")
    pytest.skip(reason)
