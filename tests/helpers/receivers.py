"""A partner's receiver for push tests: a real HTTP server on loopback that verifies every
signature, keeps what arrives, and fails on purpose (500, a hang past the sender's timeout,
429 with Retry-After, a 400 for good) on a schedule of its requests."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from lxml import etree

from tests.helpers.partners import NS


@dataclass
class Received:
    key: str
    guid: str
    version: int
    status: str
    headline: str
    embargoed: str | None
    at: datetime


def _fail_on_schedule(n: int) -> str:
    """Every few requests something goes wrong, in a pattern that mixes the failures."""
    if n % 5 == 1:
        return "500"
    if n % 7 == 3:
        return "hang"
    if n % 6 == 2:
        return "429"
    return "ok"


@dataclass
class Receiver:
    secret: str = ""
    hang_seconds: float = 2.0
    behaviour: Callable[[int], str] = _fail_on_schedule
    requests: int = 0
    bad_signatures: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    got: list[Received] = field(default_factory=list)  # every 2xx answered, repeats included
    server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests += 1
        what = self.behaviour(self.requests)
        if what != "ok":
            self.failures[what] = self.failures.get(what, 0) + 1
        if what == "500":
            return web.Response(status=500, text="down for a moment")
        if what == "hang":
            await asyncio.sleep(self.hang_seconds)
            return web.Response(status=200)  # too late: the sender gave up already
        if what == "429":
            return web.Response(status=429, headers={"Retry-After": "1"})
        if what == "400":
            return web.Response(status=400, text="we do not take this")
        stamp = request.headers["X-Syndicate-Timestamp"]
        mac = hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        if not hmac.compare_digest(
            request.headers["X-Syndicate-Signature"], "sha256=" + mac.hexdigest()
        ):
            self.bad_signatures += 1
            return web.Response(status=401)
        self.got.append(_parse(request.headers, body))
        return web.Response(status=204)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/inbox", self.handle)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return str(self.server.make_url("/inbox"))

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def unique(self) -> dict[str, Received]:
        """What the partner keeps after dropping repeats by idempotency key."""
        kept: dict[str, Received] = {}
        for item in self.got:
            kept.setdefault(item.key, item)
        return kept


def _parse(headers: Any, body: bytes) -> Received:
    now = datetime.now(UTC)
    if headers["Content-Type"].startswith("application/json"):
        item = json.loads(body)
        return Received(
            headers["Idempotency-Key"], item["uri"], int(item["version"]), item["pubstatus"],
            item["headlines"][0]["value"], item.get("embargoed"), now,
        )  # fmt: skip
    root = etree.fromstring(body)
    return Received(
        headers["Idempotency-Key"],
        str(root.get("guid")),
        int(str(root.get("version"))),
        str(root.xpath("string(g:itemMeta/g:pubStatus/@qcode)", namespaces=NS)).removeprefix(
            "stat:"
        ),
        str(root.xpath("string(g:contentMeta/g:headline)", namespaces=NS)),
        str(root.xpath("string(g:itemMeta/g:embargoed)", namespaces=NS)) or None,
        now,
    )
