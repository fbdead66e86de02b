"""`syndicate import page` and `syndicate import feed` with click's CliRunner, on a config in
tmp_path: result lines, --json, --dry-run, exit codes as `syndicate ingest` has them."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner, Result

from syndicate.cli import main
from syndicate.core.model import Article
from tests.helpers.imports import RSS, STORIES, WXR, html_page, seed_page
from tests.helpers.settings import store_config_toml
from tests.helpers.stores import read_stored
from tests.helpers.texts import AYODHYA, DALAI_LAMA

CLEAN_ENV: dict[str, str | None] = {n: None for n in os.environ if n.startswith("SYNDICATE_")}
DEMO = Path(str(resources.files("syndicate").joinpath("demo/articles.json")))


@pytest.fixture
def run(tmp_path: Path) -> Any:
    config = tmp_path / "syndicate.toml"
    config.write_text(store_config_toml(tmp_path), encoding="utf-8")

    def invoke(*args: str, input: bytes | None = None) -> Result:
        return CliRunner(env=CLEAN_ENV).invoke(main, ["--config", str(config), *args], input=input)

    return invoke


def _stored(tmp_path: Path, article_id: str) -> Article | None:
    return read_stored(tmp_path / "s.db", article_id)[article_id]


def _lines(stdout: str) -> list[list[str]]:
    return [line.split("\t") for line in stdout.splitlines() if "\t" in line]


def test_the_seed_page_links_its_teasers_to_stored_articles(run: Any, tmp_path: Path) -> None:
    seed = tmp_path / "kim.txt"
    seed.write_text(seed_page(), encoding="utf-8")
    assert run("ingest", str(DEMO)).exit_code == 0  # the demo holds both teasers' stories
    first = run("import", "page", str(seed))
    assert first.exit_code == 0, first.output
    [[source, article_id, outcome]] = _lines(first.stdout)
    assert (source, outcome) == (f"{seed}:1", "created")
    assert first.stdout.splitlines()[-1] == "summary: created 1, rejected 0"
    article = _stored(tmp_path, article_id)
    assert article is not None
    assert [(r.title, r.url) for r in article.related] == [
        (AYODHYA, "https://news.example/india/ayodhya-ram-mandir-firing-ssf-jawan"),
        (DALAI_LAMA, "https://news.example/global/china-dalai-lama-us-delegation-dharamshala"),
    ]
    assert article.sections == ("global", "top-story")
    again = run("import", "page", str(seed))
    assert _lines(again.stdout) == [[f"{seed}:1", article_id, "unchanged"]]


def test_a_dry_run_shows_the_fields_and_stores_nothing(run: Any, tmp_path: Path) -> None:
    seed = tmp_path / "kim.txt"
    seed.write_text(seed_page(), encoding="utf-8")
    result = run("import", "page", "--dry-run", "--section", "global", str(seed))
    assert result.exit_code == 0, result.output
    [[_, article_id, outcome]] = _lines(result.stdout)
    assert outcome == "valid"
    shown = {
        line.split()[0]
        for line in result.stdout.splitlines()
        if line.startswith("  ") and line[2] != " "
    }
    assert {"id", "headline", "summary", "body_html", "related", "dropped", "notes"} <= shown
    assert "'GlobalTop Story': the site's section strip" in result.stdout
    assert "page furniture: the comment form" in result.stdout
    assert result.stdout.splitlines()[-1].endswith("(dry run: nothing stored)")
    assert not (tmp_path / "s.db").exists() or _stored(tmp_path, article_id) is None


def test_json_lines_carry_the_record_and_the_outcome(run: Any, tmp_path: Path) -> None:
    pages = []
    for language, story in STORIES.items():
        path = tmp_path / f"{language}.html"
        path.write_text(html_page(story, "json-ld"), encoding="utf-8")
        pages.append(str(path))
    result = run("import", "page", "--json", "--section", "global", *pages)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["outcome"], x["record"]["language"]) for x in lines] == [
        ("created", "hi"), ("created", "en"), ("created", "ar"),
    ]  # fmt: skip
    assert [x["record"]["headline"] for x in lines] == [s.headline for s in STORIES.values()]
    assert all(x["version"] == 1 and x["dropped"] for x in lines)
    assert "summary: created 3, rejected 0" in result.stderr


def test_section_repeats_for_more_than_one(run: Any, tmp_path: Path) -> None:
    page = tmp_path / "en.html"
    page.write_text(html_page(STORIES["en"], "meta"), encoding="utf-8")
    result = run(
        "import", "page", "--json", "--section", "business", "--section", "india", str(page)
    )
    assert result.exit_code == 0, result.output
    [line] = [json.loads(x) for x in result.stdout.splitlines()]
    assert line["record"]["sections"] == ["business", "india"]


def test_stdin_and_a_rejected_page_exit_1(run: Any) -> None:
    result = run("import", "page", "--section", "global", "-", input=b"Only a headline\n")
    assert result.exit_code == 1
    [[source, article_id, outcome, errors]] = _lines(result.stdout)
    assert (source, article_id, outcome) == ("<stdin>:1", "-", "rejected")
    assert errors == "/body_html: no body text could be extracted from the page"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["page", "--section", "nope", "x"], "'nope' is not a declared section"),
        (["page", "--url", "https://a.example/x", "a", "b"], "give one FILE"),
        (["page", "--url", "ftp://a.example/x", "a"], "is not an http(s) URL"),
        (["page", "--published", "yesterday", "a"], "RFC 3339"),
        (["page", "missing.html"], "no such file"),
        (["feed", "x.xml"], "Missing option '--section'"),
    ],
)
def test_usage_errors_exit_2(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], words: str
) -> None:
    (tmp_path / "a").write_text("A headline\n\nA body.", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("import", *args)
    assert result.exit_code == 2, result.output
    assert words in result.output


def test_feeds_import_and_come_out_with_their_guids(run: Any, tmp_path: Path) -> None:
    result = run("import", "feed", "--section", "sport", str(WXR), str(RSS))
    assert result.exit_code == 0, result.output
    outcomes = [line[2] for line in _lines(result.stdout)]
    assert outcomes == ["created", "created", "skipped", "skipped", "skipped"] + ["created"] * 3
    assert result.stdout.splitlines()[-1] == "summary: created 5, skipped 3, rejected 0"
    again = run("import", "feed", "--section", "sport", str(WXR), str(RSS))
    assert again.stdout.splitlines()[-1] == "summary: unchanged 5, skipped 3, rejected 0"
    assert run("regenerate", "--section", "sport").exit_code == 0
    rss = feedparser.parse((tmp_path / "feeds" / "sport" / "rss.xml").read_bytes())
    assert {e.id for e in rss.entries} == {
        "https://blog.example/?p=101",
        "https://blog.example/?p=102",
        "https://old.example/business/rbi-policy-june-2024",
        "4711 at https://old.example",
        "tag:old.example,2024:upi-14-billion",
    }


def test_a_file_that_is_no_feed_is_rejected(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<html><body>hello</body></html>", encoding="utf-8")
    result = run("import", "feed", "--section", "sport", str(path))
    assert result.exit_code == 1
    [[_, _, outcome, errors]] = _lines(result.stdout)
    assert outcome == "rejected" and errors.startswith("/: not RSS, Atom, JSON Feed")
