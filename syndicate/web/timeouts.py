"""Slow and idle clients are cut off: a runner whose connections have a request-head deadline.

aiohttp closes a connection that sends nothing for `keepalive_timeout` (our `idle_timeout`),
but it has no deadline for the request head: a client trickling one byte a second would keep
its socket (and a file descriptor) for ever. `GuardedRunner` serves through a handler that
starts a `header_timeout` clock at the first byte of each request head and closes the
connection with a 408 when the head is not complete in time. Request bodies are not timed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from syndicate.core.errors import RequestTimeout

log = logging.getLogger("syndicate.web")


class _HeadTimedHandler(RequestHandler):
    """A request handler that closes the connection when a request head is too slow."""

    def __init__(self, manager: web.Server, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._head_timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._body: Any = None  # the payload of the last parsed head, while it is being read

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # aiohttp before 3.13 starts its idle clock only after a first response.
        loop = asyncio.get_running_loop()
        self._idle_timer = loop.call_later(self.keepalive_timeout, self._never_spoke)

    def _never_spoke(self) -> None:
        self._idle_timer = None
        log.debug("closed a connection that sent nothing in %g s", self.keepalive_timeout)
        self.force_close()

    def data_received(self, data: bytes) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        in_body = self._body is not None and not self._body.is_eof()
        if self._head_timer is None and data and not in_body:
            loop = asyncio.get_running_loop()
            self._head_timer = loop.call_later(self._header_timeout, self._head_too_slow)
        heads = self._request_count
        super().data_received(data)
        if self._request_count > heads:
            self._cancel_timer()
            self._body = self._messages[-1][1] if self._messages else None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        transport = self.transport
        if transport is None:
            return
        message = f"request head not complete within {self._header_timeout:g} s"
        body = json.dumps(RequestTimeout(message).as_body()).encode()
        transport.write(
            b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        log.info("closed a connection: %s", message)
        self.force_close()

    def _cancel_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_timer()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        super().connection_lost(exc)


class _GuardedServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _HeadTimedHandler(self, loop=self._loop, **self._kwargs)


class GuardedRunner(web.AppRunner):
    """An `AppRunner` whose connections have a head deadline and an idle deadline."""

    def __init__(
        self, app: web.Application, *, header_timeout: float, idle_timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(app, keepalive_timeout=idle_timeout, **kwargs)
        self._header_timeout = header_timeout

    async def _make_server(self) -> web.Server:
        # The app's own server (startup run, app frozen), served by our handler instead.
        plain = await super()._make_server()
        return _GuardedServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            header_timeout=self._header_timeout,
            **plain._kwargs,
        )
