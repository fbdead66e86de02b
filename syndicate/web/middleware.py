"""One error shape for every failure: handlers raise, this middleware renders JSON errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from syndicate.core.errors import StoreError, SyndicateError
from syndicate.core.tokens import redact_secrets
from syndicate.web.responses import json_response

log = logging.getLogger("syndicate.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_REASONS = {
    400: "malformed request",
    401: "authentication required",
    403: "not allowed",
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
    415: "unsupported media type",
}


def error_response(
    status: int, body: dict[str, object], headers: dict[str, str] | None = None
) -> web.Response:
    return json_response(body, status, headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except SyndicateError as exc:
        if exc.status >= 500:
            log.error("request failed: %s %s: %s", request.method, request.path, exc.message)
        else:
            log.info(
                "rejected request method=%s path=%s status=%d message=%s",
                request.method,
                json.dumps(redact_secrets(request.path), ensure_ascii=False),
                exc.status,
                json.dumps(exc.message, ensure_ascii=False),
            )
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, StoreError):
            headers = {"Retry-After": str(exc.retry_after)}
        return error_response(exc.status, exc.as_body(), headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = _REASONS.get(exc.status, exc.reason)
        if exc.status == 413:
            message = f"request body too large: {exc.text}" if exc.text else message
        log.info(
            "rejected request method=%s path=%s status=%d message=%s",
            request.method,
            json.dumps(redact_secrets(request.path), ensure_ascii=False),
            exc.status,
            json.dumps(message, ensure_ascii=False),
        )
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        return error_response(
            exc.status, {"errors": [{"path": "", "message": message}]}, headers or None
        )
    except Exception:
        log.exception("unhandled error: %s %s", request.method, redact_secrets(request.path))
        return error_response(500, {"errors": [{"path": "", "message": "internal error"}]})


class _ClientErrorsInOneLine(logging.Filter):
    """aiohttp logs a malformed request (a 4xx) with its parser traceback: make it one line.

    A client's mistake is not a fault of ours; a traceback in the log would say it was, and
    hostile clients could fill the log with them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and 400 <= exc.code < 500:
            record.msg = f"{record.getMessage()}: {exc.code} {exc.message}".replace("\n", " ")
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class _NoSecrets(logging.Filter):
    """A client that puts its token in a URL (`?token=syn_…`) must not leave it in the log:
    the access log writes request lines as they came."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_ONE_LINE = _ClientErrorsInOneLine()
_NO_SECRETS = _NoSecrets()


def quiet_client_errors() -> None:
    """Install the filters on aiohttp's loggers (once; calling again changes nothing)."""
    logging.getLogger("aiohttp.server").addFilter(_ONE_LINE)
    for name in ("aiohttp.server", "aiohttp.access", "aiohttp.web"):
        logging.getLogger(name).addFilter(_NO_SECRETS)
