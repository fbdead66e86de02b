"""Slow and idle clients are cut off: `header_timeout` for a request head, `idle_timeout` for
a connection that sends nothing. Real sockets against a real `syndicate serve` (small timeouts).
"""

from __future__ import annotations

import asyncio
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from syndicate.web.timeouts import GuardedRunner
from tests.helpers.processes import serve

CONFIG = '[syndicate]\nsite_title = "Slow clients"\n[sections.global]\ntitle = "Global"\n'
HEADER, IDLE = 1.0, 5.0


def _serve(tmp_path: Path, header: float, idle: float, nofile: int | None = None) -> Iterator[int]:
    def limit() -> None:  # runs in the child: few descriptors, as on a small host
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    yield from serve(
        tmp_path,
        CONFIG,
        {"SYNDICATE_HEADER_TIMEOUT": str(header), "SYNDICATE_IDLE_TIMEOUT": str(idle)},
        limit,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    yield from _serve(tmp_path, HEADER, IDLE)


async def _closed_after(reader: asyncio.StreamReader, deadline: float) -> tuple[float, bytes]:
    """Seconds until the server closed the connection, and what it sent before."""
    start = time.monotonic()
    received = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(4096), deadline):
            received += chunk
    except ConnectionResetError:
        pass
    return time.monotonic() - start, received


async def test_a_trickled_head_is_cut_off_at_header_timeout(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)

    async def trickle() -> None:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.1)

    dripping = asyncio.ensure_future(trickle())
    try:
        elapsed, received = await _closed_after(reader, IDLE + 5)
    finally:
        dripping.cancel()
        writer.close()
    # Closed by the head deadline, well before the idle one would have.
    assert HEADER * 0.8 <= elapsed < IDLE - 1, elapsed
    assert received.startswith(b"HTTP/1.1 408"), received


async def test_a_silent_connection_is_closed_at_idle_timeout(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    try:
        elapsed, received = await _closed_after(reader, IDLE + 5)
    finally:
        writer.close()
    assert IDLE * 0.8 <= elapsed < IDLE + 3, elapsed
    assert received == b""


def test_healthz_answers_while_one_client_holds_hundreds_of_idle_sockets(
    tmp_path: Path,
) -> None:
    # 128 descriptors in the server, 300 silent sockets: only the idle deadline frees them.
    port = next(serve := _serve(tmp_path, header=1.0, idle=1.0, nofile=128))
    idle: list[socket.socket] = []
    try:
        for _ in range(300):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            idle.append(sock)
        started = time.monotonic()
        answered = None
        while answered is None and time.monotonic() - started < 20:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as probe:
                    probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    reply = probe.recv(100)
                    if reply.startswith(b"HTTP/1.1 200"):
                        answered = time.monotonic() - started
            except OSError:
                time.sleep(0.1)
        assert answered is not None, "healthz did not answer within 20 s"
    finally:
        for sock in idle:
            sock.close()
        serve.close()


async def test_a_slow_body_is_not_a_slow_head_and_keep_alive_heads_are_timed() -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app = web.Application()
    app.router.add_post("/echo", echo)
    runner = GuardedRunner(app, header_timeout=0.5, idle_timeout=10)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n")
        for byte in b"abcdef":  # 1.5 s of body: three head deadlines long
            await asyncio.sleep(0.25)
            writer.write(bytes([byte]))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200"), head
        assert await asyncio.wait_for(reader.readexactly(6), 5) == b"abcdef"
        # The next request on the same connection: its head is timed again.
        writer.write(b"POST /echo HTTP/1.1\r\n")
        elapsed, received = await _closed_after(reader, 5)
        assert elapsed < 3, elapsed
        assert received.startswith(b"HTTP/1.1 408"), received
        writer.close()
    finally:
        await runner.cleanup()
