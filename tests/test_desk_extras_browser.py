"""The desk's import page and its admin forms in a real browser (Debian's Chromium through
Playwright) against a real `syndicate serve`: an editor imports the seed page (preview first:
its headline, summary and two "also read" teasers; then Import lands on the article) and an
HTML file; an admin creates and rotates a token and adds, replays and removes a push
destination, each secret shown once. axe-core finds no serious or critical violation on any
page; each is saved as `test-output/screenshots/desk-<page>.png`.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers.browser import check_page
from tests.helpers.imports import STORIES, html_page, seed_page
from tests.helpers.processes import cli_token, serve
from tests.helpers.settings import DESK_SECTIONS, config_toml
from tests.helpers.texts import AYODHYA, DALAI_LAMA, SEED_HEADLINE
from tests.helpers.tokens import auth_header

HOOK = "http://127.0.0.1:9/hook"
CONFIG = config_toml(DESK_SECTIONS, site_title="Samachar")


@dataclass(frozen=True)
class Desk:
    base: str
    editor: str
    admin: str


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    tmp_path = tmp_path_factory.mktemp("desk-extras")
    for port in serve(tmp_path, CONFIG):
        editor = cli_token(tmp_path, "--role", "editor", "--name", "Asha (desk)")
        admin = cli_token(tmp_path, "--role", "admin", "--name", "Ops")
        yield Desk(f"http://127.0.0.1:{port}", editor, admin)


AXE_RESULTS: dict[str, int] = {}


def _check(page: Any, name: str) -> None:
    check_page(page, f"desk-{name}", AXE_RESULTS)


def _sign_in(page: Any, desk: Desk, secret: str) -> None:
    page.goto(desk.base + "/desk")  # no slash: led to the desk, then to its sign-in
    page.wait_for_url("**/desk/sign-in")
    page.get_by_label("Token", exact=True).fill(secret)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/desk/articles")


def _preview_value(page: Any, label: str) -> Any:
    return page.locator(f"section.preview dl.fields dt:text-is('{label}') + dd")


def test_the_seed_page_previewed_then_imported(page: Any, desk: Desk) -> None:
    text = seed_page()
    _sign_in(page, desk, desk.editor)
    page.get_by_role("link", name="Import", exact=True).click()
    page.wait_for_url("**/desk/import")
    _check(page, "import")
    page.get_by_label("Page", exact=True).fill(text)
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("heading", name="Preview", exact=True).wait_for()
    headline = _preview_value(page, "Headline")
    assert headline.inner_text() == SEED_HEADLINE
    assert headline.get_attribute("lang") == "hi"
    summary = _preview_value(page, "Summary").inner_text()
    assert summary.startswith("अंतरराष्ट्रीय प्रतिबंधों के चलते")
    assert summary.endswith("किम जोंग उन से मुलाकात की।")
    teasers = page.locator("section.preview ul.related li > span:first-child").all_inner_texts()
    assert teasers == [AYODHYA, DALAI_LAMA]
    dropped = page.locator("section[aria-labelledby='dropped-h'] tbody").inner_text()
    assert "the site's section strip" in dropped and "the comment form" in dropped
    _check(page, "import-preview")

    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url("**/desk/articles/page-*?saved=created")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == SEED_HEADLINE and heading.get_attribute("lang") == "hi"
    assert "Saved as version 1" in page.get_by_role("status").inner_text()
    _check(page, "imported-article")


def test_an_html_file_uploaded_into_a_chosen_section(page: Any, desk: Desk) -> None:
    story = STORIES["ar"]
    _sign_in(page, desk, desk.editor)
    page.goto(desk.base + "/desk/import")
    page.get_by_label("Or upload a file", exact=True).set_input_files(
        files=[
            {
                "name": "story.html",
                "mimeType": "text/html",
                "buffer": html_page(story, "json-ld").encode("utf-8"),
            }
        ]
    )
    page.get_by_label("Business", exact=False).check()
    page.get_by_role("button", name="Preview").click()
    headline = _preview_value(page, "Headline")
    headline.wait_for()
    assert headline.inner_text() == story.headline
    assert (headline.get_attribute("lang"), headline.get_attribute("dir")) == ("ar", "rtl")
    assert page.get_by_label("Format", exact=True).input_value() == "html"
    _check(page, "import-preview-arabic")
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url("**/desk/articles/*?saved=created")
    assert page.get_by_role("heading", level=1).inner_text() == story.headline


def _pull_status(desk: Desk, secret: str) -> int:
    request = urllib.request.Request(
        desk.base + "/partners/ninjs/global.json", headers=auth_header(secret)
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_an_admin_makes_a_partner_token_and_a_push_destination(page: Any, desk: Desk) -> None:
    _sign_in(page, desk, desk.admin)
    page.get_by_role("link", name="Tokens").click()
    page.get_by_role("link", name="New token").click()
    page.wait_for_url("**/desk/tokens/new")
    page.get_by_label("Role", exact=True).select_option("partner")
    page.get_by_role("button", name="Create token").click()
    page.locator("#f-name-error").wait_for()
    assert page.get_by_label("Name", exact=True).get_attribute("aria-invalid") == "true"
    assert "at least one section" in page.locator("#f-sections-error").inner_text()
    _check(page, "token-new-errors")

    page.get_by_label("Name", exact=True).fill("Wire partner")
    page.locator("#f-sections-global").check()
    page.get_by_label("Embargoed items early", exact=True).check()
    page.get_by_label("Expires after", exact=True).fill("30d")
    page.get_by_role("button", name="Create token").click()
    page.get_by_role("heading", name="Token created: Wire partner").wait_for()
    secret = page.get_by_label("Token secret", exact=True).input_value()
    assert secret.startswith("syn_")
    assert _pull_status(desk, secret) in (200, 204)
    _check(page, "token-created")

    page.get_by_role("link", name="Back to tokens and partners").click()
    assert secret not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Rotate Wire partner").click()
    page.get_by_role("heading", name="New secret for Wire partner").wait_for()
    rotated = page.get_by_label("Token secret", exact=True).input_value()
    assert rotated.startswith("syn_") and rotated != secret
    assert _pull_status(desk, rotated) in (200, 204)

    page.get_by_role("link", name="Back to tokens and partners").click()
    page.get_by_role("link", name="Add a destination").click()
    page.get_by_label("Partner", exact=True).select_option("Wire partner")
    page.get_by_label("URL", exact=True).fill("http://news.example/hook")
    page.get_by_role("button", name="Add destination").click()
    assert "only to loopback" in page.locator("#f-url-error").inner_text()
    page.get_by_label("URL", exact=True).fill(HOOK)
    page.get_by_label("Format", exact=True).select_option("ninjs")
    page.get_by_role("button", name="Add destination").click()
    page.get_by_role("heading", name="Push destination added for Wire partner").wait_for()
    signing = page.get_by_label("Signing secret", exact=True).input_value()
    assert signing.startswith("whsec_")
    _check(page, "push-added")

    page.get_by_role("link", name="Back to tokens and partners").click()
    row = page.locator("table.push tbody tr", has_text=HOOK)
    cells = row.locator("td").all_inner_texts()
    assert "ninjs" in cells and "Global" in cells
    assert signing not in page.content()
    _check(page, "tokens-admin")

    row.get_by_role("link", name="Replay").click()
    page.get_by_label("Cursor", exact=True).fill("not-a-cursor")
    page.get_by_role("button", name="Replay").click()
    page.locator("#f-since-error").wait_for()
    _check(page, "push-replay")
    page.get_by_label("Cursor", exact=True).fill("")
    page.get_by_role("button", name="Replay").click()
    page.wait_for_url("**/desk/tokens?replayed=*")
    assert "Replaying to" in page.get_by_role("status").inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("table.push tbody tr", has_text=HOOK).get_by_role("button", name="Remove").click()
    page.wait_for_url("**/desk/tokens?removed=*")
    assert page.locator("table.push tbody tr", has_text=HOOK).count() == 0
    print("\naxe violations of any impact per page:", json.dumps(AXE_RESULTS, sort_keys=True))
