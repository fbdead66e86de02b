"""Validation of article records: the JSON Schema in `schemas/`, then what a schema cannot say.

STUB: the real implementation lands with the foundation issue.
"""

from __future__ import annotations

from typing import Any

from syndicate.config import Settings


def validate_record(raw: Any, settings: Settings) -> dict[str, Any]:
    """Return the normalised record (body sanitised) or raise `InvalidArticle`."""
    raise NotImplementedError


def check_record(raw: Any, settings: Settings) -> tuple[dict[str, Any] | None, list[Any]]:
    raise NotImplementedError
