"""The `syndicate` command end to end with click's CliRunner, on a config in tmp_path."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner, Result

from syndicate.cli import main
from syndicate.core.model import Article
from syndicate.core.tokens import hash_token
from syndicate.store.sqlite import SQLiteStore
from tests.helpers.processes import SYNDICATE, clean_env
from tests.helpers.records import hindi_record, record
from tests.helpers.settings import SECTIONS, store_config_toml
from tests.helpers.stores import read_stored
from tests.helpers.texts import HINDI_HEADLINE

# The outer environment must not leak into the command (CliRunner restores these afterwards).
CLEAN_ENV: dict[str, str | None] = {
    name: None for name in os.environ if name.startswith("SYNDICATE_")
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "syndicate.toml"
    path.write_text(store_config_toml(tmp_path), encoding="utf-8")
    return path


@pytest.fixture
def run(config: Path) -> Any:
    def invoke(*args: str, input: str | None = None) -> Result:
        runner = CliRunner(env=CLEAN_ENV)
        return runner.invoke(main, ["--config", str(config), *args], input=input)

    return invoke


def _stored(tmp_path: Path, *ids: str) -> dict[str, Article | None]:
    return read_stored(tmp_path / "s.db", *ids)


def _write_json(path: Path, value: Any) -> str:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")
    return str(path)


def _write_ndjson(path: Path, values: list[Any]) -> str:
    path.write_text(
        "\n".join(json.dumps(v, ensure_ascii=False) for v in values) + "\n", encoding="utf-8"
    )
    return str(path)


def _result_lines(stdout: str) -> list[list[str]]:
    return [line.split("\t") for line in stdout.splitlines() if "\t" in line]


# -- token -----------------------------------------------------------------------------------
def test_token_create_prints_the_token_alone_and_stores_only_its_hash(
    run: Any, tmp_path: Path
) -> None:
    result = run("token", "create", "--role", "editor", "--name", "Asha")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    secret = lines[0]
    assert secret.startswith("syn_") and len(secret) > 30 and secret.strip() == secret

    db_files = [p for p in tmp_path.iterdir() if p.name.startswith("s.db")]
    assert db_files
    for path in db_files:  # the WAL and shm files too
        assert secret.encode() not in path.read_bytes(), path.name
    with sqlite3.connect(tmp_path / "s.db") as db:
        rows = db.execute("SELECT name, role, token_hash FROM tokens").fetchall()
    assert rows == [("Asha", "editor", hash_token(secret))]


def test_partner_token_with_sections(run: Any, tmp_path: Path) -> None:
    result = run(
        "token", "create", "--role", "partner", "--name", "Outlet", "--sections", "global,india"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("syn_")


def test_metrics_token_is_created_like_the_others(run: Any, tmp_path: Path) -> None:
    result = run("token", "create", "--role", "metrics", "--name", "prometheus")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("syn_")
    with sqlite3.connect(tmp_path / "s.db") as db:
        rows = db.execute("SELECT name, role, sections, embargoed, token_hash FROM tokens")
        (name, role, sections, embargoed, token_hash) = rows.fetchone()
    assert (name, role, embargoed, token_hash) == ("prometheus", "metrics", 0, hash_token(lines[0]))
    assert json.loads(sections) == []


def test_tokens_are_listed_rotated_and_revoked_from_the_command_line(
    run: Any, tmp_path: Path
) -> None:
    made = run("token", "create", "--role", "partner", "--name", "agency", "--sections",
               "global", "--expires", "30d")  # fmt: skip
    assert made.exit_code == 0, made.output
    first = made.stdout.strip()
    assert run("token", "create", "--role", "admin", "--name", "ops").exit_code == 0
    twice = run("token", "create", "--role", "editor", "--name", "agency")
    assert twice.exit_code != 0 and "exists" in twice.output
    assert (
        run("token", "create", "--role", "editor", "--name", "x", "--expires", "1y").exit_code == 2
    )

    listed = run("token", "list")
    assert listed.exit_code == 0 and first not in listed.stdout
    rows = {r["name"]: r for r in _table(listed.stdout)}
    assert rows["agency"]["role"] == "partner" and rows["agency"]["sections"] == "global"
    assert rows["agency"]["expires"] != "never" and rows["agency"]["last_used"] == "never"
    assert rows["ops"]["expires"] == "never"
    as_json = json.loads(run("token", "list", "--json").stdout)
    assert {t["name"] for t in as_json} == {"agency", "ops"}

    rotated = run("token", "rotate", "agency")
    assert rotated.exit_code == 0 and rotated.stdout.strip() != first
    with sqlite3.connect(tmp_path / "s.db") as db:
        (stored,) = db.execute("SELECT token_hash FROM tokens WHERE name = 'agency'").fetchone()
    assert stored == hash_token(rotated.stdout.strip())

    revoked = run("token", "revoke", "agency")
    assert revoked.exit_code == 0 and "revoked 1" in revoked.stdout
    assert {r["name"] for r in _table(run("token", "list").stdout)} == {"ops"}
    missing = run("token", "revoke", "agency")
    assert missing.exit_code != 0 and "no token named" in missing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "partner", "--name", "Outlet"], "--sections"),
        (["--role", "partner", "--name", "Outlet", "--sections", "global,astrology"], "astrology"),
        (["--role", "editor", "--name", "Asha", "--sections", "global"], "partner"),
        (["--role", "metrics", "--name", "prometheus", "--embargoed"], "partner"),
        (["--role", "chief", "--name", "Asha"], "chief"),
        (["--role", "editor"], "--name"),
    ],
    ids=[
        "partner-without-sections",
        "undeclared-section",
        "editor-with-sections",
        "metrics-embargoed",
        "bad-role",
        "no-name",
    ],
)
def test_token_usage_errors_exit_2(run: Any, tmp_path: Path, args: list[str], message: str) -> None:
    result = run("token", "create", *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert message in result.stderr
    if (tmp_path / "s.db").exists():
        with sqlite3.connect(tmp_path / "s.db") as db:
            assert db.execute("SELECT count(*) FROM tokens").fetchone() == (0,)


# -- ingest / validate ------------------------------------------------------------------------
def test_ingest_object_array_ndjson_and_stdin(run: Any, tmp_path: Path) -> None:
    one = _write_json(tmp_path / "one.json", hindi_record("obj-1"))
    many = _write_json(tmp_path / "many.json", [record("arr-1"), record("arr-2")])
    lines = _write_ndjson(tmp_path / "lines.ndjson", [record(f"nd-{n}") for n in (1, 2, 3)])

    result = run("ingest", one, many, lines)
    assert result.exit_code == 0, result.output
    rows = _result_lines(result.stdout)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (f"{one}:1", "obj-1", "created"),
        (f"{many}:1", "arr-1", "created"),
        (f"{many}:2", "arr-2", "created"),
        (f"{lines}:1", "nd-1", "created"),
        (f"{lines}:2", "nd-2", "created"),
        (f"{lines}:3", "nd-3", "created"),
    ]
    assert result.stdout.splitlines()[-1] == "summary: created 6, rejected 0"

    stdin = run("ingest", "-", input=json.dumps(record("in-1")) + "\n")
    assert stdin.exit_code == 0, stdin.output
    assert _result_lines(stdin.stdout)[0][:3] == ["<stdin>:1", "in-1", "created"]

    again = run("ingest", one)
    assert again.exit_code == 0
    assert _result_lines(again.stdout)[0][2] == "unchanged"
    assert "summary: unchanged 1, rejected 0" in again.stdout

    stored = _stored(tmp_path, "obj-1", "arr-2", "nd-3", "in-1")
    assert all(a is not None and a.version == 1 for a in stored.values())
    obj = stored["obj-1"]
    assert obj is not None and obj.headline == HINDI_HEADLINE


def test_ingest_with_a_bad_record_exits_1_and_names_its_line_and_path(
    run: Any, tmp_path: Path
) -> None:
    lines = _write_ndjson(
        tmp_path / "lines.ndjson",
        [record("ok-1"), record("bad-2", sections=["astrology"]), record("ok-3")],
    )
    result = run("ingest", lines)
    assert result.exit_code == 1, result.output
    # In input order: the rejection used to be printed before the stored line 1.
    assert [r[0] for r in _result_lines(result.stdout)] == [f"{lines}:{n}" for n in (1, 2, 3)]
    rows = {r[0]: r for r in _result_lines(result.stdout)}
    bad = rows[f"{lines}:2"]
    assert bad[1:3] == ["bad-2", "rejected"]
    assert bad[3].startswith("/sections/0: ") and "astrology" in bad[3]
    assert "summary: created 2, rejected 1" in result.stdout
    stored = _stored(tmp_path, "ok-1", "bad-2", "ok-3")
    assert stored["bad-2"] is None
    assert stored["ok-1"] is not None and stored["ok-3"] is not None


def test_ingest_reports_a_malformed_ndjson_line_by_number(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "broken.ndjson"
    path.write_text(
        json.dumps(record("ok-1")) + "\n" + '{"id": "x", \n' + json.dumps(record("ok-3")) + "\n",
        encoding="utf-8",
    )
    result = run("ingest", str(path))
    assert result.exit_code == 1, result.output
    rows = {r[0]: r for r in _result_lines(result.stdout)}
    assert rows[f"{path}:2"][2] == "rejected"
    assert "malformed JSON" in rows[f"{path}:2"][3]
    assert rows[f"{path}:3"][2] == "created"


def test_a_broken_pretty_printed_object_is_one_rejected_record(run: Any, tmp_path: Path) -> None:
    text = json.dumps(record("pp-1"), indent=2)
    broken = text.replace('"language": "en",', '"language": "en",,')
    path = tmp_path / "pretty.json"
    path.write_text(broken, encoding="utf-8")
    result = run("ingest", str(path))
    assert result.exit_code == 1, result.output
    rows = _result_lines(result.stdout)
    assert len(rows) == 1  # was one "malformed JSON" per line of the file
    error_line = 1 + broken.splitlines().index('  "language": "en",,')
    assert rows[0][0] == f"{path}:{error_line}"
    assert rows[0][2] == "rejected" and rows[0][3].startswith("/: malformed JSON")
    assert "summary: rejected 1" in result.stdout


def test_ingest_json_output_is_ndjson(run: Any, tmp_path: Path) -> None:
    lines = _write_ndjson(tmp_path / "l.ndjson", [record("j-1"), record("j-2", language="")])
    result = run("ingest", "--json", lines)
    assert result.exit_code == 1
    results = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["line"], r["outcome"]) for r in results] == [(1, "created"), (2, "rejected")]
    assert results[1]["errors"][0]["path"] == "/language"
    assert "summary:" in result.stderr


def test_ingest_missing_file_is_a_usage_error(run: Any, tmp_path: Path) -> None:
    result = run("ingest", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "nope.json" in result.stderr


def test_validate_writes_nothing(run: Any, tmp_path: Path) -> None:
    assert run("ingest", _write_json(tmp_path / "a.json", record("kept-1"))).exit_code == 0
    lines = _write_ndjson(
        tmp_path / "v.ndjson", [record("v-1"), record("v-2", sections=["astrology"])]
    )
    result = run("validate", lines)
    assert result.exit_code == 1
    rows = _result_lines(result.stdout)
    assert [(r[1], r[2]) for r in rows] == [("v-1", "valid"), ("v-2", "rejected")]
    assert rows[1][3].startswith("/sections/0: ")
    assert "summary: rejected 1, valid 1" in result.stdout

    ok = run("validate", _write_json(tmp_path / "ok.json", record("v-3")))
    assert ok.exit_code == 0
    assert _stored(tmp_path, "v-1", "v-3") == {"v-1": None, "v-3": None}
    assert _stored(tmp_path, "kept-1")["kept-1"] is not None
    assert not (tmp_path / "feeds").exists()


def test_validate_on_a_fresh_install_creates_no_store(run: Any, tmp_path: Path) -> None:
    result = run("validate", _write_json(tmp_path / "ok.json", record("v-1")))
    assert result.exit_code == 0, result.output
    assert not any(p.name.startswith("s.db") for p in tmp_path.iterdir())


# -- regenerate / status -------------------------------------------------------------------------
def _table(stdout: str) -> list[dict[str, str]]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    header = lines[0].split()
    assert set(lines[1]) <= {"-", " "}
    return [dict(zip(header, line.split(), strict=False)) for line in lines[2:]]


def test_regenerate_prints_a_table_and_writes_the_feeds(run: Any, tmp_path: Path) -> None:
    ingested = run(
        "ingest", _write_json(tmp_path / "a.json", [hindi_record("hi-1"), record("en-1")])
    )
    assert ingested.exit_code == 0, ingested.output
    result = run("regenerate")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split()[:6] == [
        "section",
        "format",
        "items",
        "bytes",
        "changed",
        "ms",
    ]
    rows = {(r["section"], r["format"]): r for r in _table(result.stdout)}
    assert set(rows) == {(s, f) for s in [*SECTIONS, "all"] for f in ("rss", "atom", "json")}
    assert rows[("global", "rss")]["items"] == "1"
    assert rows[("all", "json")]["items"] == "2"
    assert rows[("sport", "atom")]["items"] == "0"
    assert all(r["changed"] == "yes" for r in rows.values())
    assert all(float(r["ms"]) >= 0 and int(r["bytes"]) > 0 for r in rows.values())

    rss = tmp_path / "feeds" / "global" / "rss.xml"
    parsed = feedparser.parse(rss.read_bytes())
    assert [e.title for e in parsed.entries] == [HINDI_HEADLINE]
    assert gzip.decompress((tmp_path / "feeds" / "global" / "rss.xml.gz").read_bytes()) == (
        rss.read_bytes()
    )
    assert int(rows[("global", "rss")]["bytes"]) == rss.stat().st_size

    again = run("regenerate", "--section", "global")
    assert again.exit_code == 0
    rows_again = _table(again.stdout)
    assert {r["section"] for r in rows_again} == {"global"}
    assert all(r["changed"] == "no" for r in rows_again)


def test_regenerate_unknown_section_exits_2(run: Any, tmp_path: Path) -> None:
    result = run("regenerate", "--section", "nope")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no such section: nope" in result.stderr
    assert not (tmp_path / "feeds").exists()


def test_status_prints_every_section(run: Any, tmp_path: Path) -> None:
    assert run("ingest", _write_json(tmp_path / "a.json", hindi_record("hi-1"))).exit_code == 0
    result = run("status")
    assert result.exit_code == 0, result.output
    rows = {r["section"]: r for r in _table(result.stdout.split("\n\n")[0])}
    assert set(rows) == {*SECTIONS, "all"}
    assert rows["global"]["items"] == "1" and rows["sport"]["items"] == "0"
    assert "pending embargo releases: 0" in result.stdout
    assert "articles: 1 published, 0 held (embargoed or future-dated), 0 withdrawn" in result.stdout

    as_json = run("status", "--json")
    body = json.loads(as_json.stdout)
    assert [s["section"] for s in body["sections"]] == [*SECTIONS, "all"]
    assert body["articles"] == {"published": 1, "held": 0, "withdrawn": 0}


# -- demo ------------------------------------------------------------------------------------
def test_demo_loads_once_and_then_changes_nothing(run: Any, tmp_path: Path) -> None:
    first = run("demo")
    assert first.exit_code == 0, first.output
    assert "Demo articles: created 15, rejected 0" in first.stdout
    token_lines = [line for line in first.stdout.splitlines() if "token" in line.lower()]
    secret = token_lines[0].rsplit(" ", 1)[-1]
    assert secret.startswith("syn_")
    with sqlite3.connect(tmp_path / "s.db") as db:
        hashes = {row[0] for row in db.execute("SELECT token_hash FROM tokens")}
    assert hash_token(secret) in hashes
    assert (tmp_path / "feeds" / "all" / "feed.json").is_file()

    second = run("demo")
    assert second.exit_code == 0, second.output
    assert "Demo articles: unchanged 15, rejected 0" in second.stdout


# -- configuration ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[syndicate]\nport = 'eighty'\n", "port"),
        ("[syndicate]\ncolour = 'blue'\n", "colour"),
        ("[sections.Bad_Slug]\ntitle = 'x'\n", "sections.Bad_Slug"),
        ("[sections.all]\ntitle = 'x'\n", "sections.all"),
        ("[sections.global]\nlimit = 0\n", "sections.global.limit"),
        ("[syndicate\nport = 1\n", "syndicate.toml"),
    ],
    ids=["bad-port", "unknown-key", "bad-slug", "reserved-slug", "bad-limit", "not-toml"],
)
def test_bad_config_exits_2_naming_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner(env=CLEAN_ENV).invoke(main, ["--config", str(path), "status"])
    assert result.exit_code == 2, result.output
    assert "configuration" in result.stderr
    assert message in result.stderr


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    result = CliRunner(env=CLEAN_ENV).invoke(main, ["--config", str(missing), "status"])
    assert result.exit_code == 2
    assert str(missing) in result.stderr


def test_environment_overrides_the_file(config: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    env = {**CLEAN_ENV, "SYNDICATE_DATABASE_URL": f"sqlite:///{other}"}
    result = CliRunner(env=env).invoke(
        main, ["--config", str(config), "token", "create", "--role", "editor", "--name", "N"]
    )
    assert result.exit_code == 0, result.output
    assert other.exists() and not (tmp_path / "s.db").exists()


def test_python_dash_m_syndicate_help(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SYNDICATE, "--help"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for command in ("serve", "ingest", "validate", "regenerate", "status", "token", "bench"):
        assert command in done.stdout


async def test_status_with_a_token_shows_the_running_service(
    aiohttp_server: Any, tmp_path: Path, config: Path
) -> None:
    from syndicate.web.app import create_app
    from tests.helpers.settings import build_settings
    from tests.helpers.tokens import create_token

    settings = build_settings(tmp_path / "service", regen_interval=3600)
    store = SQLiteStore(settings.database_url)
    await store.open()
    try:
        await store.put(
            record("later", embargo_until="2099-01-01T00:00:00Z"), now=datetime.now(UTC)
        )
        secret = await create_token(store)
        server = await aiohttp_server(create_app(settings, store=store, run_scheduler=True))
        url = str(server.make_url("/"))

        def invoke(*args: str) -> Result:
            return CliRunner(env=CLEAN_ENV).invoke(main, ["--config", str(config), *args])

        # The CLI runs its own event loop: give it a thread of its own.
        result = await asyncio.to_thread(invoke, "status", "--url", url, "--token", secret)
        assert result.exit_code == 0, result.output
        assert "timer: running" in result.stdout
        assert "regenerate-changed" in result.stdout  # the jobs and their next runs
        assert "pending embargo releases: 1" in result.stdout and "later" in result.stdout
        live = json.loads(
            (
                await asyncio.to_thread(invoke, "status", "--json", "--url", url, "--token", secret)
            ).stdout
        )
        assert live["scheduler"]["running"] is True
        assert {s["section"] for s in live["sections"]} == {*SECTIONS, "all"}
        # Without a token, the store's view: the one status builder, the same shape.
        stored = json.loads((await asyncio.to_thread(invoke, "status", "--json")).stdout)
        assert set(stored) == set(live)
        assert [set(s) for s in stored["sections"]] == [set(s) for s in live["sections"]]

        wrong = await asyncio.to_thread(invoke, "status", "--url", url, "--token", "syn_wrong")
        assert wrong.exit_code == 1
        assert "401" in wrong.stderr
    finally:
        await store.close()
