"""Filters the desk's templates use: times for people and machines, values as text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jinja2

from syndicate.core.model import parse_time


def when(value: datetime | str | None) -> str:
    """`1 May 2024, 04:30 UTC`: the same on every desk, whatever the server's zone."""
    if value is None or value == "":
        return "—"
    moment = (parse_time(value) if isinstance(value, str) else value).astimezone(UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else ""


def as_text(value: Any) -> str:
    """A record value as an editor reads it: text as is, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False, indent=1 if isinstance(value, dict) else None)


def duration(seconds: float) -> str:
    """`45 s`, `3 min 12 s`, `2 h 5 min`, `3 d 4 h`: how long, to the unit that matters."""
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def add_filters(env: jinja2.Environment) -> None:
    env.filters["when"] = when
    env.filters["iso"] = iso
    env.filters["as_text"] = as_text
    env.filters["duration"] = duration
