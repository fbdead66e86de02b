"""Exceptions that carry an HTTP status, and the one JSON error shape they render to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field: `path` is a JSON pointer into the submitted record."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class SyndicateError(Exception):
    """Base of every error we raise on purpose; `status` is the HTTP status it maps to."""

    status = 500

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or [FieldError("", message)]

    def as_body(self) -> dict[str, Any]:
        """The one error shape: `{"errors": [{"path": ..., "message": ...}]}`."""
        return {"errors": [e.as_dict() for e in self.errors]}


class ConfigError(SyndicateError):
    status = 500


class BadRequest(SyndicateError):
    status = 400


class Unauthorized(SyndicateError):
    status = 401


class Forbidden(SyndicateError):
    status = 403


class NotFound(SyndicateError):
    status = 404


class RequestTimeout(SyndicateError):
    status = 408


class PreconditionFailed(SyndicateError):
    status = 412


class UnsupportedMediaType(SyndicateError):
    status = 415


class Conflict(SyndicateError):
    """The request clashes with what exists (a token name already in use)."""

    status = 409


class InvalidRequest(SyndicateError):
    """A request body failed validation; `errors` names every field at fault."""

    status = 422

    def __init__(self, errors: list[FieldError]) -> None:
        first = errors[0] if errors else FieldError("", "invalid")
        super().__init__(f"{first.path or '/'}: {first.message}", errors)


class InvalidArticle(SyndicateError):
    """A record failed validation; `errors` names every field at fault."""

    status = 422

    def __init__(self, errors: list[FieldError]) -> None:
        first = errors[0] if errors else FieldError("", "invalid")
        super().__init__(f"{first.path or '/'}: {first.message}", errors)


class StoreError(SyndicateError):
    """A storage failure; the message starts with the component (`store: ...`)."""

    status = 503
    retry_after = 5  # seconds; a Retry-After for clients and load balancers
