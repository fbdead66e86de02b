"""Credentials never printed: a password in any part of a database URL stays out of every line.

`redact_url` is the one function that prints URLs; the service is run for real with a known
password and every line it printed (and what it serves) is searched for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.core.config import redact_url, settings_from_mapping
from tests.helpers.processes import printed_and_served

SECRET = "S3cretPW"
CONFIG = '[syndicate]\nsite_title = "Credentials"\n[sections.global]\ntitle = "Global"\n'
PATHS = ("/healthz", "/metrics", "/api/status", "/nope")


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        (f"postgresql://news:{SECRET}@db.example:5432/news", "db.example:5432/news"),
        (f"postgresql://news@db.example/news?password={SECRET}&schema=s", "schema=s"),
        (f"postgresql://:{SECRET}@db.example/news", "db.example/news"),
        (f"postgresql://u:pa@{SECRET}@db.example/news", "db.example/news"),
        (f"postgresql://u:{SECRET}@[::1", "postgresql://u:"),
        (f"postgres://u@h/d?sslpassword={SECRET}", "postgres://u@h/d"),
        (f"host=db password={SECRET} user=u", "host=db"),
        (f"postgresql://u:{SECRET}/x@db.example/news", "db.example/news"),
    ],
)
def test_redact_url_hides_every_password(url: str, kept: str) -> None:
    shown = redact_url(url)
    assert SECRET not in shown
    assert kept in shown


def test_the_settings_shown_hide_the_password() -> None:
    env = {
        "SYNDICATE_DATABASE_URL": f"postgresql://u:pa@{SECRET}@db.example/n?password={SECRET}",
        "SYNDICATE_WEBSUB_HUB": f"https://hub:{SECRET}@hub.example/",
    }
    shown = settings_from_mapping({}, env).redacted()
    assert SECRET not in str(shown)


def _serve_and_read(tmp_path: Path, database_url: str) -> str:
    """Run `syndicate serve` until it answers (or exits); everything it printed and served."""
    extra = {
        "SYNDICATE_DATABASE_URL": database_url,
        "SYNDICATE_WEBSUB_HUB": f"http://hub:{SECRET}@127.0.0.1:9/",
    }
    return printed_and_served(tmp_path, CONFIG, extra, PATHS)


def test_serve_on_sqlite_prints_no_password(tmp_path: Path) -> None:
    printed = _serve_and_read(tmp_path, f"sqlite:///{tmp_path / 's.db'}")
    assert "settings {" in printed and "hub:***@" in printed
    assert SECRET not in printed


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{SECRET}@127.0.0.1:1/db?password={SECRET}",  # nothing listens
        f"postgresql://u:pa@{SECRET}@[::1/db",  # malformed
        f"postgresql://:{SECRET}@127.0.0.1:99999/db",  # port out of range
    ],
)
def test_errors_opening_postgresql_print_no_password(tmp_path: Path, url: str) -> None:
    printed = _serve_and_read(tmp_path, url)
    assert "Error" in printed and "Traceback" not in printed
    assert SECRET not in printed
