"""Push through a crash: the sending process is SIGKILLed in the middle of deliveries (and
restarted; on PostgreSQL another process takes over). At the end the receiver holds every
(guid, version) its partner is entitled to, in order per item, exactly once after dropping
repeats by idempotency key, every signature valid, nothing held early.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers.processes import SYNDICATE, child_env, free_port, run_syndicate, wait_for_log
from tests.helpers.receivers import Receiver
from tests.helpers.records import live_record
from tests.helpers.stores import BACKENDS, create_pg_schema, drop_pg_schema
from tests.helpers.tokens import auth_header

pytestmark = pytest.mark.slow
CONFIG = (
    '[syndicate]\nsite_title = "Push"\nbase_url = "https://news.example"\n'
    '[sections.global]\ntitle = "Global"\n[sections.india]\ntitle = "India"\n'
    '[sections.sport]\ntitle = "Sport"\n'
)
SECTIONS = ("global", "india")


class Sender:
    """`syndicate serve` processes sharing one store, started and killed at will."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        (folder / "syndicate.toml").write_text(CONFIG, encoding="utf-8")
        self.env = child_env(
            folder,
            {
                "SYNDICATE_DATABASE_URL": database_url,
                "SYNDICATE_RUN_SCHEDULER": "1",
                "SYNDICATE_PUSH_TIMEOUT": "0.4",
                "SYNDICATE_PUBLISH_DELAY": "0.2",
            },
        )
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.logs: list[Any] = []

    def cli(self, *args: str) -> str:
        return run_syndicate(self.folder, *args, env=self.env, timeout=60)

    def start(self) -> int:
        port = free_port()
        log = (self.folder / f"serve-{port}.log").open("wb")
        self.logs.append(log)
        self.procs[port] = subprocess.Popen(
            [*SYNDICATE, "--config", "syndicate.toml", "serve"],
            cwd=self.folder, env=self.env | {"SYNDICATE_PORT": str(port)},
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_log(self.procs[port], self.folder / f"serve-{port}.log")
        return port

    def kill(self, port: int) -> None:
        self.procs[port].send_signal(signal.SIGKILL)
        self.procs.pop(port).wait(timeout=10)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            proc.wait(timeout=15)
        for log in self.logs:
            log.close()


async def _pulled(session: aiohttp.ClientSession, port: int, partner: str) -> set[tuple]:
    told = set()
    for section in SECTIONS:
        since = None
        while True:
            params = {"since": since} if since else {}
            async with session.get(
                f"http://127.0.0.1:{port}/partners/ninjs/{section}.json",
                headers=auth_header(partner), params=params,
            ) as resp:  # fmt: skip
                if resp.status == 204:
                    break
                assert resp.status == 200, await resp.text()
                for item in (await resp.json())["items"]:
                    told.add((item["uri"], int(item["version"]), item["pubstatus"]))
                since = resp.headers["X-Next-Cursor"]
    return told


async def _leader(session: aiohttp.ClientSession, ports: list[int], editor: str) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for port in ports:
            async with session.get(
                f"http://127.0.0.1:{port}/api/status", headers=auth_header(editor)
            ) as resp:
                if resp.status == 200 and (await resp.json())["scheduler"]["leader"]:
                    return port
        await asyncio.sleep(0.2)
    raise AssertionError("no process became the leader")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_pushes_survive_a_killed_sender(tmp_path: Path, backend: str) -> None:
    schema = None
    if backend == "postgres":
        url, name = schema = await create_pg_schema()
        database_url = f"{url}?schema={name}"
    else:
        database_url = f"sqlite:///{tmp_path / 's.db'}"
    receiver = Receiver(hang_seconds=1.0)
    inbox = await receiver.start()
    sender = Sender(tmp_path, database_url)
    try:
        editor = sender.cli("token", "create", "--role", "editor", "--name", "desk")
        partner = sender.cli("token", "create", "--role", "partner", "--name", "agency",
                             "--sections", ",".join(SECTIONS))  # fmt: skip
        made = json.loads(sender.cli("partner", "push", "add", "--partner", "agency", "--url",
                                     inbox, "--format", "ninjs", "--json"))  # fmt: skip
        receiver.secret = made["secret"]
        ports = [sender.start()] + ([sender.start()] if backend == "postgres" else [])
        embargo = datetime.now(UTC) + timedelta(seconds=4)
        async with aiohttp.ClientSession() as session:
            auth = auth_header(editor)

            async def save(body: dict[str, Any], port: int) -> None:
                async with session.post(
                    f"http://127.0.0.1:{port}/api/articles", json=body, headers=auth
                ) as resp:
                    assert resp.status in (200, 201), await resp.text()

            for n in range(8):
                await save(live_record(f"s{n}", sections=[SECTIONS[n % 2]]), ports[-1])
            await save(live_record("held", sections=["global"], embargo_until=embargo), ports[-1])
            leader = await _leader(session, ports, editor)
            deadline = time.monotonic() + 30
            while len(receiver.got) < 3:  # deliveries under way, not all done
                assert time.monotonic() < deadline, "no deliveries started"
                await asyncio.sleep(0.02)
            sender.kill(leader)
            ports.remove(leader)
            ports.append(sender.start())  # restarted (on PostgreSQL the other one leads now)
            for n in range(8):
                again = {**live_record(f"s{n}", sections=[SECTIONS[n % 2]]), "headline": f"v2 {n}"}
                await save(again, ports[0])
            async with session.delete(f"http://127.0.0.1:{ports[0]}/api/articles/s3", headers=auth):
                pass

            async def complete() -> bool:
                want = await _pulled(session, ports[0], partner)
                got = {(r.guid, r.version, r.status) for r in receiver.unique().values()}
                return any(g.endswith(":held") for g, _, _ in want) and got == want

            deadline = time.monotonic() + 90
            while not await complete():
                assert time.monotonic() < deadline, (
                    f"incomplete: {sorted(await _pulled(session, ports[0], partner))} vs "
                    f"{sorted((r.guid, r.version) for r in receiver.unique().values())}"
                )
                await asyncio.sleep(0.2)
        seen: dict[str, int] = {}
        for item in receiver.unique().values():  # in order per item
            assert item.version > seen.get(item.guid, 0), item
            seen[item.guid] = item.version
        assert receiver.bad_signatures == 0
        held = [r for r in receiver.got if r.guid.endswith(":held")]
        assert held and min(r.at for r in held) >= embargo
    finally:
        sender.stop()
        await receiver.close()
        if schema is not None:
            await drop_pg_schema(*schema)
