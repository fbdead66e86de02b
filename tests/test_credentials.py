"""Credentials never printed: a password in any part of a database URL stays out of every line.

`redact_url` is the one function that prints URLs; the service is run for real with a known
password and every line it printed (and what it serves) is searched for it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from syndicate.config import redact_url, settings_from_mapping
from tests.store_fixtures import create_pg_schema

ROOT = Path(__file__).resolve().parents[1]
SECRET = "S3cretPW"
CONFIG = '[syndicate]\nsite_title = "Credentials"\n[sections.global]\ntitle = "Global"\n'


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


def _env(tmp_path: Path, database_url: str, port: int) -> dict[str, str]:
    (tmp_path / "syndicate.toml").write_text(CONFIG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    return env | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        "SYNDICATE_DATABASE_URL": database_url,
        "SYNDICATE_FEEDS_DIR": str(tmp_path / "feeds"),
        "SYNDICATE_PORT": str(port),
        "SYNDICATE_RUN_SCHEDULER": "0",
        "SYNDICATE_WEBSUB_HUB": f"http://hub:{SECRET}@127.0.0.1:9/",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_and_read(tmp_path: Path, database_url: str) -> str:
    """Run `syndicate serve` until it answers (or exits); everything it printed and served."""
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "syndicate", "-v", "--config", "syndicate.toml", "serve"],
            cwd=tmp_path,
            env=_env(tmp_path, database_url, port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        served = ""
        try:
            deadline = time.monotonic() + 30
            while proc.poll() is None and b"settings {" not in log_path.read_bytes():
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.05)
            if proc.poll() is None:
                for path in ("/healthz", "/metrics", "/api/status", "/nope"):
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as r:
                            served += r.read().decode()
                    except urllib.error.HTTPError as exc:
                        served += exc.read().decode()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return log_path.read_text(encoding="utf-8", errors="replace") + served


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


@pytest.mark.postgres
async def test_serve_on_postgresql_prints_no_password(tmp_path: Path) -> None:
    server, schema = await create_pg_schema()
    parts = urlsplit(server)
    userinfo = f"{parts.username or 'postgres'}:{SECRET}"
    netloc = f"{userinfo}@{parts.hostname}:{parts.port or 5432}"
    query = [*parse_qsl(parts.query), ("schema", schema)]
    url = urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))
    printed = _serve_and_read(tmp_path, url)
    if "password authentication failed" in printed:
        pytest.skip("the test server checks passwords; the known one is not its own")
    assert "settings {" in printed
    assert SECRET not in printed
