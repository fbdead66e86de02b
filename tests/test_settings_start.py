"""Settings are checked before anything starts: a bad one is exit 2 and one line, no traceback.

Each case runs the real `syndicate serve` in a subprocess, the way an operator would.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.helpers.processes import SYNDICATE, clean_env, free_port

CONFIG = '[syndicate]\nsite_title = "Start checks"\n[sections.global]\ntitle = "Global"\n'


def run_serve(
    tmp_path: Path, env: dict[str, str], config: str = CONFIG
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "syndicate.toml"
    path.write_text(config, encoding="utf-8")
    clean = clean_env()
    if "database_url" not in config:
        clean["SYNDICATE_DATABASE_URL"] = f"sqlite:///{tmp_path / 's.db'}"
    if "port" not in config:
        clean["SYNDICATE_PORT"] = str(free_port())
    full = {**clean, **env}
    return subprocess.run(
        [*SYNDICATE, "--config", str(path), "serve", "--host", "127.0.0.1"],
        cwd=tmp_path,
        env=full,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("SYNDICATE_REGEN_INTERVAL", "99999999999999999999", "86400"),
        ("SYNDICATE_SAFETY_INTERVAL", "99999999999999", "604800"),
        ("SYNDICATE_DATABASE_URL", "mysql://x", "postgresql://"),
        ("SYNDICATE_DATABASE_URL", "sqlite:relative.db", "sqlite:///"),
        ("SYNDICATE_DATABASE_URL", "sqlite:////proc/nope/x.db", "can be created"),
        ("SYNDICATE_DATABASE_URL", "postgresql://[::1", "postgresql://"),
        ("SYNDICATE_HOST", "999.1.1.1", "IP address"),
        ("SYNDICATE_PORT", "99999", "65535"),
        ("SYNDICATE_PORT", "0", "65535"),
        ("SYNDICATE_HEADER_TIMEOUT", "0", "more than 0"),
        ("SYNDICATE_IDLE_TIMEOUT", "inf", "at most 3600"),
        ("SYNDICATE_FEED_MAX_AGE", "-1", "from 0 to 3600"),
        ("SYNDICATE_FEED_MAX_AGE", "86400", "from 0 to 3600"),
        ("SYNDICATE_FEED_MAX_AGE", "1.5", "whole number"),
        ("SYNDICATE_BASE_URL", "news.example", "http"),
        ("SYNDICATE_RUN_SCHEDULER", "maybe", "boolean"),
    ],
)
def test_a_bad_variable_is_one_line_and_exit_2(
    tmp_path: Path, variable: str, value: str, allowed: str
) -> None:
    done = run_serve(tmp_path, {variable: value})
    assert done.returncode == 2, done.stderr
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    assert variable in lines[0]
    assert allowed in lines[0]
    setting = variable.removeprefix("SYNDICATE_").lower()
    assert setting in lines[0]


@pytest.mark.parametrize(
    ("line", "setting", "allowed"),
    [
        ("regen_interval = 1e400", "regen_interval", "whole number"),
        ("port = true", "port", "65535"),
        ('idle_timeout = "soon"', "idle_timeout", "seconds"),
        ("feed_max_age = 3601", "feed_max_age", "from 0 to 3600"),
        ("database_url = 3", "database_url", "non-empty string"),
    ],
)
def test_a_bad_file_value_names_the_file(
    tmp_path: Path, line: str, setting: str, allowed: str
) -> None:
    done = run_serve(tmp_path, {}, config=CONFIG.replace("[syndicate]\n", f"[syndicate]\n{line}\n"))
    assert done.returncode == 2, done.stderr
    lines = [text for text in (done.stdout + done.stderr).splitlines() if text.strip()]
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    assert setting in lines[0] and "syndicate.toml" in lines[0] and allowed in lines[0]


def test_a_taken_port_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_serve(tmp_path, {"SYNDICATE_PORT": str(port), "SYNDICATE_RUN_SCHEDULER": "0"})
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
