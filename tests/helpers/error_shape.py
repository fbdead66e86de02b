"""The one error shape, checked: `{"errors": [{"path", "message"}, …]}` as UTF-8 JSON."""

from __future__ import annotations

import json
from typing import Any


async def error_body(resp: Any, status: int) -> list[dict[str, str]]:
    """Check `status` and the one error shape; return its errors (each a path and a message)."""
    raw = await resp.read()
    assert resp.status == status, (resp.status, raw[:500])
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(raw.decode("utf-8"))
    assert set(body) == {"errors"}, body
    errors = body["errors"]
    assert isinstance(errors, list) and errors, body
    for error in errors:
        assert set(error) == {"path", "message"}, error
        assert isinstance(error["path"], str)
        assert isinstance(error["message"], str) and error["message"].strip()
        assert error["path"] == "" or error["path"].startswith("/"), error
    return errors


async def first_error(resp: Any, status: int) -> str:
    """Check `status` and the one error shape; the first error's message."""
    return (await error_body(resp, status))[0]["message"]
