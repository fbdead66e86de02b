"""Memory is the truth, files are a copy: a feeds folder that cannot be written never keeps
new stories from being served; the failure shows in status and metrics; the files catch up."""

from __future__ import annotations

import shutil
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from syndicate.web.keys import METRICS, REGENERATOR
from tests.helpers.clients import feed_text, running_app
from tests.helpers.records import live_record
from tests.helpers.settings import build_settings
from tests.helpers.tokens import editor_header


def _errors(metrics_text: str, section: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "syndicate_regenerations_total"
                and labels.get("section") == section
                and labels.get("outcome") == "error"
            ):
                return sample.value
    return 0.0


async def test_an_unwritable_feeds_folder_still_serves_new_stories(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    feeds.write_text("not a folder")  # every write below it fails (NotADirectoryError)
    async with running_app(build_settings(tmp_path, feeds_dir=str(feeds))) as client:
        headers = await editor_header(client)
        body = live_record("served-from-memory", sections=["global"])
        assert (await client.post("/api/articles", json=body, headers=headers)).status == 201
        answer = await client.post("/api/regenerate", json={"sections": []}, headers=headers)
        assert answer.status == 200
        results = {r["section"]: r for r in (await answer.json())["results"]}
        assert results["global"]["error"] is None
        assert "feeds folder" in results["global"]["files_error"]
        assert "served-from-memory" in (await feed_text(client, "global", "rss.xml") or "")
        assert "served-from-memory" in (await feed_text(client, "all", "feed.json") or "")

        status = await (await client.get("/api/status", headers=headers)).json()
        section = next(s for s in status["sections"] if s["section"] == "global")
        assert "feeds folder" in section["last_error"]
        assert "feeds folder" in status["opml_error"]
        metrics = client.app[METRICS].render().decode()
        assert _errors(metrics, "global") >= 1

        # Writing works again: the timer's run of changed sections writes the files.
        await client.app[REGENERATOR].settle()  # the background small copies write there too
        feeds.unlink()
        feeds.mkdir(exist_ok=True)  # a timer's run may make the folder first: that is fine
        await client.app[REGENERATOR].regenerate(only_changed=True)
        assert "served-from-memory" in (feeds / "global" / "rss.xml").read_text()
        assert (feeds / "all" / "feed.json").is_file()
        status = await (await client.get("/api/status", headers=headers)).json()
        section = next(s for s in status["sections"] if s["section"] == "global")
        assert section["last_error"] is None


async def test_a_feeds_folder_removed_under_a_running_service_comes_back(tmp_path: Path) -> None:
    async with running_app(build_settings(tmp_path)) as client:
        headers = await editor_header(client)
        body = live_record("before", sections=["global"])
        assert (await client.post("/api/articles", json=body, headers=headers)).status == 201
        regenerator = client.app[REGENERATOR]
        await regenerator.regenerate(["global"])
        await regenerator.settle()  # the background brotli copies write into the folder too
        feeds = Path(regenerator.settings.feeds_dir)
        shutil.rmtree(feeds / "global")
        (feeds / "global").write_text("in the way")
        body = live_record("after", sections=["global"])
        assert (await client.post("/api/articles", json=body, headers=headers)).status == 201
        [result] = await regenerator.regenerate(["global"])
        assert result.files_error is not None and result.error is None
        assert "after" in (await feed_text(client, "global", "rss.xml") or "")
        (feeds / "global").unlink()
        await regenerator.regenerate(only_changed=True)
        assert "after" in (feeds / "global" / "rss.xml").read_text()
