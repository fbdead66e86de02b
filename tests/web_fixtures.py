"""Helpers for the HTTP and CLI tests: settings on a temporary folder, tokens, records, errors.

Plain functions (no pytest fixtures) so test modules import what they use; nothing here reads
the working directory or the environment.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse

from syndicate.config import Settings, settings_from_mapping
from syndicate.store.base import Store
from syndicate.tokens import new_token
from tests.conftest import SECTIONS

HINDI_HEADLINE = "सेंसेक्स 70,000 के पार, बाज़ार में उत्साह"
ARABIC_HEADLINE = "الأسواق العالمية ترتفع اليوم"
EMOJI_HEADLINE = "Markets 📈 rally 🚀 — families 👨‍👩‍👧 cheer"


def web_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """The test sections, a SQLite store and a feeds folder, all inside `tmp_path`."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'store.db'}",
        "feeds_dir": str(tmp_path / "feeds"),
        "base_url": "https://news.example",
        "regen_interval": 120,
    }
    values.update(overrides)
    return settings_from_mapping({"syndicate": values, "sections": SECTIONS}, environ={})


async def add_token(
    store: Store, role: str = "editor", sections: list[str] | None = None, embargoed: bool = False
) -> str:
    """A fresh token of `role` in the store; returns the secret."""
    secret, digest = new_token()
    await store.add_token(
        name=f"test {role}",
        role=role,  # type: ignore[arg-type]
        token_hash=digest,
        sections=sections or [],
        embargoed=embargoed,
        now=datetime.now(UTC),
    )
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def record(article_id: str, **changes: Any) -> dict[str, Any]:
    """A small valid article; `changes` replace fields (value None removes one)."""
    out: dict[str, Any] = {
        "id": article_id,
        "headline": f"Council approves cycle lanes ({article_id})",
        "body_html": "<p>The city council approved 12 km of new cycle lanes.</p>",
        "language": "en",
        "sections": ["india"],
        "published": "2024-06-19T10:00:00+05:30",
        "canonical_url": f"https://news.example/india/{article_id}",
    }
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def hindi_record(article_id: str = "hi-1", **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "headline": HINDI_HEADLINE,
        "summary": "मुंबई: शेयर बाज़ार ने आज नया रिकॉर्ड बनाया।",
        "body_html": "<p>मुंबई में <b>शेयर बाज़ार</b> ने आज नया रिकॉर्ड बनाया।</p>",
        "language": "hi",
        "sections": ["global", "top-story"],
        "published": "2024-05-01T10:00:00+05:30",
        "canonical_url": f"https://news.example/global/{article_id}",
    }
    values.update(changes)
    return record(article_id, **values)


async def error_body(resp: ClientResponse, status: int) -> list[dict[str, str]]:
    """Check the one error shape and return its errors: JSON, UTF-8, path + message each."""
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
