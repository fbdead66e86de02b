"""A real install: the built wheel in a fresh venv, used from an empty folder outside the
checkout. `syndicate init` writes a starting configuration; `syndicate demo` then
`syndicate serve` work on the built-in one, schemas and all.

The fresh venv reuses this environment's dependencies (a `.pth` line), so the test builds and
installs only our wheel and needs no network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT
from tests.helpers.processes import free_port, serving

PACKAGED = ("syndicate/schemas/article.schema.json", "syndicate/schemas/openapi.yaml",
            "syndicate/default.toml", "syndicate/demo/articles.json",
            "syndicate/web/templates/desk/write.html", "syndicate/web/static/desk/desk.css",
            "syndicate/web/static/desk/desk.js", "syndicate/web/static/public/reader.css",
            "syndicate/web/templates/public/section.html")  # fmt: skip


def _run(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload, no-any-return]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin` folder of a fresh venv holding only our wheel."""
    tmp = tmp_path_factory.mktemp("install")
    # A copy of the sources, so the build's scratch folders never land in the checkout.
    source = tmp / "source"
    skip = shutil.ignore_patterns(".venv", ".git", "build", "var", "feeds", "*.egg-info", "*cache*")
    shutil.copytree(ROOT, source, symlinks=True, ignore=skip)
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                  "-w", str(tmp / "dist"), str(source)])  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("syndicate-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(PACKAGED) <= names, sorted(set(PACKAGED) - names)
    venv = tmp / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    # Dependencies from this environment, listed after the venv's own site-packages: the
    # checkout's editable install is not on that path (its .pth there is not processed).
    Path(site.stdout.strip(), "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    put = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                "--no-index", str(wheel)])  # fmt: skip
    assert put.returncode == 0, put.stderr
    return venv / "bin"


def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNDICATE_", "PYTHON"))}
    return env | {"HOME": str(folder)}


def test_the_wheel_runs_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = _run([str(installed / "python"), "-c", "import syndicate; print(syndicate.__file__)"],
                 cwd=tmp_path, env=_env(tmp_path))  # fmt: skip
    assert where.returncode == 0 and str(installed.parent) in where.stdout, where
    demo = _run([str(installed / "syndicate"), "demo"], cwd=tmp_path, env=_env(tmp_path))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Editor token" in demo.stdout
    port = free_port()
    env = _env(tmp_path) | {"SYNDICATE_PORT": str(port), "SYNDICATE_RUN_SCHEDULER": "0"}
    with serving(tmp_path, env, command=[str(installed / "syndicate"), "serve"]):
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/feeds/global/feed.json", timeout=10) as resp:
            feed = json.load(resp)
        assert feed["version"] == "https://jsonfeed.org/version/1.1" and feed["items"]
        with urllib.request.urlopen(f"{base}/api/article.schema.json", timeout=10) as resp:
            assert json.load(resp)["title"] == "Article record"
        with urllib.request.urlopen(f"{base}/api/openapi.yaml", timeout=10) as resp:
            assert resp.read().startswith(b"openapi: 3.1")
        # The desk's templates and its stylesheet come from the wheel too.
        with urllib.request.urlopen(f"{base}/desk/sign-in", timeout=10) as resp:
            assert b'<label for="f-token">Token</label>' in resp.read()
        with urllib.request.urlopen(f"{base}/static/desk/desk.css", timeout=10) as resp:
            assert resp.headers["Content-Type"].startswith("text/css")
        # So do the readers' pages and theirs.
        with urllib.request.urlopen(f"{base}/sections/global", timeout=10) as resp:
            assert b'<link rel="stylesheet" href="/static/public/reader.css' in resp.read()
        with urllib.request.urlopen(f"{base}/static/public/reader.css", timeout=10) as resp:
            assert resp.headers["Content-Type"].startswith("text/css")


def test_init_writes_a_configuration_to_start_from(installed: Path, tmp_path: Path) -> None:
    init = _run([str(installed / "syndicate"), "init"], cwd=tmp_path, env=_env(tmp_path))
    assert init.returncode == 0, init.stderr
    written = tomllib.loads((tmp_path / "syndicate.toml").read_text("utf-8"))
    assert "global" in written["sections"] and written["syndicate"]["site_title"]
    again = _run([str(installed / "syndicate"), "init"], cwd=tmp_path, env=_env(tmp_path))
    assert again.returncode != 0 and "exists" in again.stderr
    checked = _run([str(installed / "syndicate"), "status"], cwd=tmp_path, env=_env(tmp_path))
    assert checked.returncode == 0, checked.stderr
