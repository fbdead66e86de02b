"""Credentials never printed, on PostgreSQL: the service run for real on the test server with
a password in its database URL; nothing it printed or served shows the password (the other
cases, and `redact_url` itself, are in `test_credentials.py`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from tests.helpers.processes import printed_and_served
from tests.helpers.stores import create_pg_schema, drop_pg_schema

SECRET = "S3cretPW"
CONFIG = '[syndicate]\nsite_title = "Credentials"\n[sections.global]\ntitle = "Global"\n'
PATHS = ("/healthz", "/metrics", "/api/status", "/nope")


@pytest.mark.postgres
async def test_serve_on_postgresql_prints_no_password(tmp_path: Path) -> None:
    server, schema = await create_pg_schema()
    parts = urlsplit(server)
    userinfo = f"{parts.username or 'postgres'}:{SECRET}"
    netloc = f"{userinfo}@{parts.hostname}:{parts.port or 5432}"
    query = [*parse_qsl(parts.query), ("schema", schema)]
    url = urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))
    extra = {
        "SYNDICATE_DATABASE_URL": url,
        "SYNDICATE_WEBSUB_HUB": f"http://hub:{SECRET}@127.0.0.1:9/",
    }
    try:
        printed = printed_and_served(tmp_path, CONFIG, extra, PATHS)
    finally:
        await drop_pg_schema(server, schema)
    if "password authentication failed" in printed:
        pytest.skip("the test server checks passwords; the known one is not its own")
    assert "settings {" in printed
    assert SECRET not in printed
