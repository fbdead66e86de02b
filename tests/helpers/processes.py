"""A real `syndicate` in a subprocess, in a test's folder: its environment, a free port,
one-off commands, and `syndicate serve` started, waited for and stopped."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.helpers.paths import ROOT
from tests.helpers.waiting import wait_until_sync

SYNDICATE = [sys.executable, "-m", "syndicate"]
SERVING = b"Syndicate serving on"  # what `syndicate serve` prints once it listens


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env() -> dict[str, str]:
    """This environment without its SYNDICATE_* variables, with this checkout on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def child_env(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child `syndicate`: this checkout, a private store and feeds
    folder in `tmp_path`, the timer off; then `extra`."""
    return clean_env() | {
        "SYNDICATE_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
        "SYNDICATE_FEEDS_DIR": str(tmp_path / "feeds"),
        "SYNDICATE_RUN_SCHEDULER": "0",
        **(extra or {}),
    }


def run_syndicate(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> str:
    """`syndicate --config syndicate.toml <args>` in `tmp_path`, which must succeed; its
    output. The environment is `child_env(tmp_path)` unless given."""
    done = subprocess.run(
        [*SYNDICATE, "--config", "syndicate.toml", *args],
        cwd=tmp_path,
        env=env if env is not None else child_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout.strip()


def cli_token(tmp_path: Path, *args: str) -> str:
    """`syndicate token create <args>`: the new token's secret (its last line)."""
    return run_syndicate(tmp_path, "token", "create", *args).splitlines()[-1]


def wait_for_log(
    proc: subprocess.Popen[Any], log: Path, text: bytes = SERVING, timeout: float = 30
) -> None:
    """Until `log` holds `text`; fails with the log if the process exits first."""

    def printed() -> bool:
        assert proc.poll() is None, log.read_text(encoding="utf-8", errors="replace")
        return text in log.read_bytes()

    wait_until_sync(printed, timeout=timeout, what=f"{text!r} in {log.name}")


@contextmanager
def serving(
    tmp_path: Path,
    env: dict[str, str],
    *,
    command: list[str] | None = None,
    preexec: Callable[[], None] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """`syndicate serve` in `tmp_path` (on its syndicate.toml, unless `command` says
    otherwise) with `env`, once it listens; its output in serve.log; stopped on exit."""
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            command or [*SYNDICATE, "--config", "syndicate.toml", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec,
        )
        try:
            wait_for_log(proc, tmp_path / "serve.log")
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=15)


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
    with serving(tmp_path, env, preexec=preexec):
        yield port


def printed_and_served(
    tmp_path: Path, config: str, extra: dict[str, str], paths: tuple[str, ...]
) -> str:
    """Run `syndicate -v serve` until it prints its settings (or exits): everything it
    printed, then what it answered at `paths` (error bodies included)."""
    (tmp_path / "syndicate.toml").write_text(config, encoding="utf-8")
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*SYNDICATE, "-v", "--config", "syndicate.toml", "serve"],
            cwd=tmp_path,
            env=child_env(tmp_path, {"SYNDICATE_PORT": str(port), **extra}),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        served = ""
        try:
            wait_until_sync(
                lambda: proc.poll() is not None or b"settings {" in log_path.read_bytes(),
                timeout=30,
                what="its settings printed, or its exit",
            )
            if proc.poll() is None:
                for path in paths:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as r:
                            served += r.read().decode()
                    except urllib.error.HTTPError as exc:
                        served += exc.read().decode()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return log_path.read_text(encoding="utf-8", errors="replace") + served
