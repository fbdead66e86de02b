"""A real `syndicate serve` in a subprocess, on a free port, in a test's folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    """The environment of a child `syndicate`: this checkout, a private store and feeds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env |= {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        "SYNDICATE_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
        "SYNDICATE_FEEDS_DIR": str(tmp_path / "feeds"),
        "SYNDICATE_RUN_SCHEDULER": "0",
    }
    return env | extra


def serve(
    tmp_path: Path,
    config: str,
    extra: dict[str, str] | None = None,
    preexec: Callable[[], None] | None = None,
) -> Iterator[int]:
    """Start `syndicate serve` with `config` as its syndicate.toml; yield its port; stop it."""
    (tmp_path / "syndicate.toml").write_text(config, encoding="utf-8")
    port = free_port()
    env = child_env(tmp_path, {"SYNDICATE_PORT": str(port), **(extra or {})})
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicate", "--config", "syndicate.toml", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=preexec,
    )
    try:
        deadline = time.monotonic() + 30
        while b"Syndicate serving on" not in (tmp_path / "serve.log").read_bytes():
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "server did not start within 30 s"
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
