"""Scale-out on PostgreSQL: several `syndicate serve` processes sharing one store.

The end-to-end test starts three real server processes on loopback ports against the test's
own schema, and checks what DESIGN.md promises under "Scale": one timer, the same bytes
everywhere, regenerations visible on every process within seconds, and a leader's death
taken over without losing or doubling an embargo release.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest

from syndicate.core.model import FeedDocument
from syndicate.core.tokens import new_token
from syndicate.store.postgres import PostgresStore, feeds_channel
from tests.helpers.processes import SYNDICATE, clean_env, free_port
from tests.helpers.records import record
from tests.helpers.settings import BASE_URL
from tests.helpers.stores import PgFactory, create_pg_schema, drop_pg_schema
from tests.helpers.tokens import auth_header, create_token

T = TypeVar("T")

pg = pytest.mark.postgres

CONFIG = """\
[syndicate]
site_title = "Syndicate scale-out test"

[sections.global]
title = { en = "Global", hi = "वैश्विक" }
language = "hi"

[sections.sport]
title = { en = "Sport", hi = "खेल" }
"""
FEEDS = ("rss.xml", "atom.xml", "feed.json")


def _article(article_id: str, *, published: datetime, embargo: datetime | None = None) -> dict:
    return record(
        article_id,
        headline=f"Headline of {article_id}",
        summary="A summary.",
        body_html=f"<p>Body of {article_id}.</p>",
        sections=["sport"],
        published=published.isoformat(),
        canonical_url=f"{BASE_URL}/sport/{article_id}",
        embargo_until=embargo.isoformat() if embargo is not None else None,
    )


async def _until(
    what: str, check: Callable[[], Awaitable[T | None]], *, seconds: float, every: float = 0.05
) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:g} s", pytrace=False)
        await asyncio.sleep(every)


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self) -> str:
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return f"--- {self.name} (port {self.port}) ---\n" + "\n".join(lines[-30:])


@pytest.fixture
def servers(pg_url: str, tmp_path: Path) -> Iterator[list[Server]]:
    """Three `syndicate serve` processes on one schema, each with its own feeds folder."""
    yield from _serve(pg_url, tmp_path, 3)


def _serve(pg_url: str, tmp_path: Path, count: int) -> Iterator[list[Server]]:
    config = tmp_path / "syndicate.toml"
    config.write_text(CONFIG, encoding="utf-8")
    started: list[Server] = []
    try:
        for n in range(1, count + 1):
            port = free_port()
            log = tmp_path / f"server{n}.log"
            env = clean_env() | {
                "SYNDICATE_DATABASE_URL": pg_url,
                "SYNDICATE_FEEDS_DIR": str(tmp_path / f"feeds{n}"),
                "SYNDICATE_HOST": "127.0.0.1",
                "SYNDICATE_BASE_URL": "http://feeds.example",
                "SYNDICATE_REGEN_INTERVAL": "3600",
                "SYNDICATE_RUN_SCHEDULER": "1",
            }
            with log.open("wb") as out:
                command = [*SYNDICATE, "--config", str(config), "serve"]
                proc = subprocess.Popen(
                    [*command, "--port", str(port)],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=tmp_path,
                )
            started.append(Server(f"server{n}", port, proc, log))
        yield started
    finally:
        for server in started:
            if server.proc.poll() is None:
                server.proc.kill()
        for server in started:
            server.proc.wait(timeout=10)


async def _editor_token(pg_url: str) -> str:
    store = PostgresStore(pg_url)
    await store.open()
    try:
        return await create_token(store, "editor", name="scale-out test")
    finally:
        await store.close()


async def _released_changes(pg_url: str, article_id: str) -> int:
    store = PostgresStore(pg_url)
    await store.open()
    try:
        changes = await store.changes_since("sport", 0, 1000, include_held=True)
    finally:
        await store.close()
    return sum(1 for c in changes if c.article.id == article_id and c.kind == "released")


@pg
@pytest.mark.slow
@pytest.mark.timeout(90)
# SIGKILL: a crash; SIGTERM: a supervisor's stop; SIGSTOP: a frozen leader (blocked loop, a
# paused VM) whose kernel still answers keep-alives: only the lease takes the timer from it.
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP], ids=str)
async def test_three_processes_share_one_store(
    pg_url: str, servers: list[Server], stop: signal.Signals
) -> None:
    token = await _editor_token(pg_url)
    auth = auth_header(token)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            await _scenario(http, auth, pg_url, servers, stop)
    except BaseException:
        print("\n".join(s.tail() for s in servers))
        raise


async def _scenario(
    http: aiohttp.ClientSession,
    auth: dict[str, str],
    pg_url: str,
    servers: list[Server],
    stop: signal.Signals,
) -> None:
    first, second, third = servers

    async def get(server: Server, path: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
        try:
            async with http.get(server.base + path, **kw) as resp:
                headers = {k.lower(): v for k, v in resp.headers.items()}
                return resp.status, headers, await resp.read()
        except aiohttp.ClientError:
            return 0, {}, b""

    async def status(server: Server) -> dict[str, Any] | None:
        code, _, body = await get(server, "/api/status", headers=auth)
        return json.loads(body) if code == 200 else None

    async def leaders(among: list[Server]) -> list[Server]:
        found = []
        for server in among:
            body = await status(server)
            if body and body["scheduler"] and body["scheduler"]["leader"]:
                found.append(server)
        return found

    async def feed(server: Server, section: str, name: str) -> tuple[str, bytes] | None:
        code, headers, body = await get(server, f"/feeds/{section}/{name}")
        return (headers["etag"], body) if code == 200 else None

    async def all_healthy() -> bool:
        for server in servers:
            assert server.proc.poll() is None, f"{server.name} exited early"
            if (await get(server, "/healthz"))[0] != 200:
                return False
        return True

    await _until("all three servers answering /healthz", all_healthy, seconds=30, every=0.1)
    # One of them wins the timer within a sync period (1 s) and generates every feed.
    [leader] = await _until("exactly one leader", lambda: _exactly_one(leaders(servers)), seconds=5)

    # Ingest through process 1, regenerate through process 2, read through process 3.
    now = datetime.now(UTC)
    async with http.post(
        first.base + "/api/articles", json=_article("fresh", published=now), headers=auth
    ) as resp:
        assert resp.status == 201, await resp.text()
    async with http.post(
        second.base + "/api/regenerate", json={"sections": []}, headers=auth
    ) as resp:
        assert resp.status == 200, await resp.text()
    regenerated = time.monotonic()

    async def third_serves_fresh() -> bool:
        got = await feed(third, "sport", "feed.json")
        return got is not None and b'"Headline of fresh"' in got[1]

    await _until("process 3 serving the new article", third_serves_fresh, seconds=2)
    assert time.monotonic() - regenerated < 2

    async def identical(among: list[Server]) -> bool:
        for section in ("sport", "all"):
            for name in FEEDS:
                seen = {await feed(s, section, name) for s in among}
                if len(seen) != 1 or None in seen:
                    return False
        return True

    await _until("identical bytes and ETags on all three", lambda: identical(servers), seconds=2)

    # An embargoed story, stored before the leader dies, released a few seconds from now.
    release_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=7)
    held = _article("held", published=now - timedelta(minutes=1), embargo=release_at)
    async with http.post(first.base + "/api/articles", json=held, headers=auth) as resp:
        assert resp.status == 201, await resp.text()

    killed_at = datetime.now(UTC)
    leader.proc.send_signal(stop)
    if stop != signal.SIGSTOP:
        leader.proc.wait(timeout=10)
    survivors = [s for s in servers if s is not leader]
    [successor] = await _until(
        f"a survivor taking over from {leader.name}",
        lambda: _exactly_one(leaders(survivors)),
        seconds=10,
        every=0.1,
    )
    takeover = (datetime.now(UTC) - killed_at).total_seconds()
    print(f"\n{stop.name}: takeover after {takeover:.2f} s")
    # Within 5 s whatever the leader did (a frozen one loses its lease after 4 s).
    assert takeover < 5, f"takeover after {takeover:.2f} s"

    async def fully_regenerated() -> bool:
        body = await status(successor)
        stamps = [s["last_generation"] for s in body["sections"]] if body else [None]
        return all(t is not None and datetime.fromisoformat(t) >= killed_at for t in stamps)

    await _until(f"{successor.name} regenerating every section", fully_regenerated, seconds=5)

    # Never before its time, on any survivor; on both within 2 s of it.
    async def released_everywhere() -> bool:
        shown = []
        for server in survivors:
            asked = datetime.now(UTC)
            for section, name in (("sport", "rss.xml"), ("all", "feed.json")):
                got = await feed(server, section, name)
                visible = got is not None and b"Headline of held" in got[1]
                assert not (visible and asked < release_at), (
                    f"{server.name} showed the embargoed story at {asked}, before {release_at}"
                )
                shown.append(visible)
        return all(shown)

    await _until("the embargoed story on both survivors", released_everywhere, seconds=10)
    late = datetime.now(UTC) - release_at
    print(f"{stop.name}: embargo released {late.total_seconds():.2f} s after its time")
    assert late < timedelta(seconds=2), f"released {late.total_seconds():.2f} s late"
    await _until("identical feeds on the survivors", lambda: identical(survivors), seconds=2)
    assert await _released_changes(pg_url, "held") == 1
    if stop == signal.SIGSTOP:
        # The frozen leader wakes: it finds its lease gone and stops before doing anything.
        leader.proc.send_signal(signal.SIGCONT)

        async def woken_follows() -> bool:
            body = await status(leader)
            return body is not None and not body["scheduler"]["leader"]

        await _until(f"{leader.name} awake and not leading", woken_follows, seconds=10)
        assert await _exactly_one(leaders(servers)) == [successor]
        assert await _released_changes(pg_url, "held") == 1


async def _exactly_one(found: Awaitable[list[Server]]) -> list[Server] | None:
    servers = await found
    return servers if len(servers) == 1 else None


# -- store level: what the processes above rely on ---------------------------------------
@pg
async def test_feed_notifications_stay_in_their_schema(pg_factory: PgFactory) -> None:
    """Two deployments in one database (different schemas) must not wake each other."""
    url, other = await create_pg_schema()
    ours, theirs = pg_factory(), PostgresStore(url, schema=other)
    try:
        await ours.open()
        await theirs.open()
        assert ours.schema and feeds_channel(ours.schema) != feeds_channel(other)
        heard: list[str] = []
        mine = asyncio.Event()

        def on_feeds(section: str) -> None:
            heard.append(section)
            if section == "mine":
                mine.set()

        await ours.subscribe_feeds(on_feeds)
        now = datetime.now(UTC)
        await theirs.save_feeds([FeedDocument("theirs", "rss.xml", b"<rss/>", now)])
        # Notifications are delivered in commit order: once ours arrives, theirs would have.
        await ours.save_feeds([FeedDocument("mine", "rss.xml", b"<rss/>", now)])
        await asyncio.wait_for(mine.wait(), timeout=10)
        assert heard == ["mine"]
    finally:
        await theirs.close()
        await drop_pg_schema(url, other)


@pg
async def test_an_older_render_saved_last_does_not_replace_a_newer_one(
    pg_factory: PgFactory,
) -> None:
    store = pg_factory()
    await store.open()
    earlier = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    later = earlier + timedelta(seconds=1)
    assert await store.save_feeds([FeedDocument("sport", "rss.xml", b"newer", later)]) == []
    # The save says what won over it, so the loser serves the winner without reading back.
    won = await store.save_feeds([FeedDocument("sport", "rss.xml", b"older", earlier)])
    assert [(d.name, d.body, d.generated) for d in won] == [("rss.xml", b"newer", later)]
    [doc] = await store.load_feeds("sport")
    assert (doc.body, doc.generated) == (b"newer", later)
    # A newer render of the same bytes is no loss.
    assert await store.save_feeds([FeedDocument("sport", "rss.xml", b"newer", earlier)]) == []
    # The same bytes again keep the time they were first made (Last-Modified stays put).
    await store.save_feeds([FeedDocument("sport", "rss.xml", b"newer", later + timedelta(1))])
    [doc] = await store.load_feeds("sport")
    assert (doc.body, doc.generated) == (b"newer", later)
    await store.save_feeds([FeedDocument("sport", "rss.xml", b"newest", later + timedelta(1))])
    [doc] = await store.load_feeds("sport")
    assert doc.body == b"newest"


@pg
async def test_a_found_token_carries_its_hash(pg_factory: PgFactory) -> None:
    """The web layer compares the stored hash: PostgreSQL returned none, rejecting every token."""
    store = pg_factory()
    await store.open()
    _secret, digest = new_token()
    added = await store.add_token(name="e", role="editor", token_hash=digest, now=datetime.now(UTC))
    found = await store.find_token(digest)
    assert found is not None and found.token_hash == digest == added.token_hash


# -- the database going away -----------------------------------------------------------------
class _Proxy:
    """A loopback TCP proxy to PostgreSQL that the test can cut (every connection dropped,
    new ones refused) and restore on the same port: a database outage without touching the
    shared server."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


@pytest.fixture
async def proxy(pg_url: str) -> Any:
    parts = urlsplit(pg_url)
    running = _Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await running.start()
    try:
        yield running
    finally:
        await running.cut()


@pg
@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_a_database_outage_keeps_feeds_served_and_recovers(
    pg_url: str, proxy: _Proxy, tmp_path: Path
) -> None:
    token = await _editor_token(pg_url)
    auth = auth_header(token)
    parts = urlsplit(pg_url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
    via_proxy = urlunsplit(parts._replace(netloc=netloc))
    spawned = _serve(via_proxy, tmp_path, 1)
    [server] = next(spawned)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            await _outage(http, auth, proxy, server)
    except BaseException:
        print(server.tail())
        raise
    finally:
        spawned.close()


async def _outage(
    http: aiohttp.ClientSession, auth: dict[str, str], proxy: _Proxy, server: Server
) -> None:
    async def call(method: str, path: str, **kw: Any) -> tuple[int, str, bytes]:
        try:
            async with http.request(method, server.base + path, **kw) as resp:
                return resp.status, resp.headers.get("ETag", ""), await resp.read()
        except aiohttp.ClientError:
            return 0, "", b""

    async def leading() -> bool:
        code, _, body = await call("GET", "/api/status", headers=auth)
        return code == 200 and bool(json.loads(body)["scheduler"]["leader"])

    async def healthy() -> bool:
        assert server.proc.poll() is None, "the server exited"
        return (await call("GET", "/healthz"))[0] == 200

    async def post(article_id: str) -> int:
        article = _article(article_id, published=datetime.now(UTC))
        return (await call("POST", "/api/articles", json=article, headers=auth))[0]

    await _until("the server answering", healthy, seconds=30, every=0.1)
    await _until("the server leading", leading, seconds=5)
    assert await post("before") == 201
    assert (await call("POST", "/api/regenerate", json={}, headers=auth))[0] == 200
    code, etag, body = await call("GET", "/feeds/sport/rss.xml")
    assert code == 200 and b"Headline of before" in body

    await proxy.cut()
    # Writes fail with 503 (the one error shape), not a hang and not a 500.
    code, _, answer = await call(
        "POST", "/api/articles", json=_article("during", published=datetime.now(UTC)), headers=auth
    )
    assert code == 503, answer
    assert json.loads(answer)["errors"][0]["message"].startswith("store:")
    # Readers still get the last feeds, from memory, byte for byte.
    for _ in range(3):
        assert await call("GET", "/feeds/sport/rss.xml") == (200, etag, body)
        assert (await call("GET", "/feeds/sport/rss.xml", headers={"If-None-Match": etag}))[
            0
        ] == 304

    # The timer pauses: its next leadership check (every second) finds the session gone.
    async def resigned() -> bool:
        return "no longer runs the timer" in server.log.read_text(encoding="utf-8")

    await _until("the timer pausing", resigned, seconds=5, every=0.1)

    await proxy.start()
    await _until("writes accepted again", lambda: _is(post("after"), 201), seconds=15, every=0.2)
    await _until("the timer taken up again", leading, seconds=10, every=0.1)
    assert (await call("POST", "/api/regenerate", json={}, headers=auth))[0] == 200
    code, _, body = await call("GET", "/feeds/sport/rss.xml")
    assert code == 200 and b"Headline of after" in body


async def _is(value: Awaitable[int], expected: int) -> bool:
    return await value == expected
