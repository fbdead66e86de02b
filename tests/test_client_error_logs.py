"""A client error (4xx) never logs a traceback: each kind is triggered, the log is searched.

Errors our handlers raise, and requests so malformed that aiohttp's parser refuses them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from syndicate.web.keys import STORE
from tests.helpers.clients import running_app
from tests.helpers.records import record
from tests.helpers.settings import build_settings
from tests.helpers.tokens import auth_header, create_token


async def _statuses(client: TestClient[Any, Any]) -> dict[int, int]:
    """Trigger each client-error kind; the status each attempt got, by the one it wanted."""
    editor = auth_header(await create_token(client.app[STORE]))
    partner = auth_header(await create_token(client.app[STORE], "partner", ["global"]))
    as_json = {**editor, "Content-Type": "application/json"}
    attempts: dict[int, tuple[str, str, dict[str, str], bytes | None]] = {
        400: ("POST", "/api/articles", as_json, b"{not json"),
        401: ("POST", "/api/articles", {"Content-Type": "application/json"}, b"{}"),
        403: ("GET", "/api/status", partner, None),
        404: ("GET", "/api/articles/no-such-article", editor, None),
        405: ("PATCH", "/api/articles/x", editor, None),
        413: ("POST", "/api/articles", as_json, b"[" + b"1," * 2048 + b"1]"),
        415: ("POST", "/api/articles", {**editor, "Content-Type": "text/plain"}, b"{}"),
        422: ("POST", "/api/articles", as_json, json.dumps(record("x", headline="")).encode()),
    }
    got = {}
    for wanted, (method, path, headers, body) in attempts.items():
        async with client.request(method, path, headers=headers, data=body) as resp:
            got[wanted] = resp.status
            assert "errors" in await resp.json()  # the one error shape
    return got


async def test_no_client_error_logs_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = build_settings(tmp_path, max_request_bytes=2048, run_scheduler=False)
    caplog.set_level(logging.DEBUG)
    async with running_app(settings) as client:
        got = await _statuses(client)
    assert got == {wanted: wanted for wanted in got}
    for entry in caplog.records:
        assert entry.exc_info is None, (entry.getMessage(), entry.exc_info)
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20_000 + b"\r\n\r\n",
        b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /api/articles HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
        b"GET /api/articles/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
)
async def test_a_malformed_request_logs_no_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, raw: bytes
) -> None:
    settings = build_settings(tmp_path, run_scheduler=False)
    caplog.set_level(logging.DEBUG)
    async with running_app(settings) as client:
        reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
        writer.write(raw)
        head = await asyncio.wait_for(reader.read(200), 5)
        writer.close()
    assert re.match(rb"HTTP/1\.[01] 4", head), head
    assert "Traceback" not in caplog.text, caplog.text
    assert all(entry.exc_info is None for entry in caplog.records), caplog.text
