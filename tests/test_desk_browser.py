"""The editors' desk in a real browser: Debian's Chromium driven by Playwright, against a real
`syndicate serve`. An editor signs in, writes a Hindi article with a bad field and sees the
error at that field, fixes and saves it, regenerates its section and finds it in the feed;
two editors edit at once and the second sees the conflict; a withdrawal asks first; a
forged POST changes nothing. axe-core checks every page (no serious or critical violation)
and each page is saved as `test-output/screenshots/desk-*.png`.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest

from tests.helpers.browser import check_page
from tests.helpers.processes import cli_token, serve
from tests.helpers.records import record
from tests.helpers.settings import DESK_SECTIONS, config_toml
from tests.helpers.texts import ARABIC_HEADLINE, HINDI_BODY, HINDI_HEADLINE, HINDI_SUMMARY
from tests.helpers.tokens import auth_header

CONFIG = config_toml(DESK_SECTIONS, site_title="Samachar")


@dataclass(frozen=True)
class Desk:
    base: str
    editor: str


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    tmp_path = tmp_path_factory.mktemp("desk")
    for port in serve(tmp_path, CONFIG):
        editor = cli_token(tmp_path, "--role", "editor", "--name", "Asha (desk)")
        cli_token(tmp_path, "--role", "partner", "--name", "agency", "--sections", "global")
        assert "The editors' desk: http://127.0.0.1:8080/desk/" in (
            tmp_path / "serve.log"
        ).read_text(encoding="utf-8")
        yield Desk(f"http://127.0.0.1:{port}", editor)


def _api(desk: Desk, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        desk.base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={**auth_header(desk.editor), "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _article(desk: Desk, article_id: str, **fields: Any) -> dict[str, Any]:
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    values = {"sections": ["business"], "published": an_hour_ago, **fields}
    stored: dict[str, Any] = _api(desk, "POST", "/api/articles", record(article_id, **values))
    return stored


AXE_RESULTS: dict[str, int] = {}


def _check(page: Any, name: str) -> None:
    check_page(page, f"desk-{name}", AXE_RESULTS)


def _sign_in(page: Any, desk: Desk, *, check: bool = False) -> None:
    page.goto(desk.base + "/desk/")
    assert page.url.endswith("/desk/sign-in")
    if check:
        _check(page, "sign-in")
    page.get_by_label("Token", exact=True).fill(desk.editor)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/desk/articles")


def test_a_hindi_article_written_with_a_bad_field_fixed_regenerated_and_in_the_feed(
    page: Any, desk: Desk
) -> None:
    _sign_in(page, desk, check=True)
    page.get_by_role("link", name="Write", exact=True).click()
    page.wait_for_url("**/desk/write")
    _check(page, "write")
    page.get_by_label("ID", exact=True).fill("hi-desk-1")
    page.get_by_label("Headline", exact=True).fill(HINDI_HEADLINE)
    page.get_by_label("Summary", exact=True).fill(HINDI_SUMMARY)
    page.get_by_label("Body", exact=True).fill(HINDI_BODY)
    page.get_by_label("Language", exact=True).fill("hi")
    page.locator("#f-sections-global").check()
    page.get_by_label("Published", exact=True).fill("कल सुबह")  # "tomorrow morning": not a time
    page.get_by_label("Canonical URL", exact=True).fill("https://news.example/global/hi-desk-1")
    assert page.get_by_label("Headline", exact=True).get_attribute("lang") == "hi"
    page.get_by_role("button", name="Save").click()
    error = page.locator("#f-published-error")
    error.wait_for()
    assert "date" in error.inner_text().lower() or "rfc 3339" in error.inner_text().lower()
    assert page.get_by_label("Published", exact=True).get_attribute("aria-invalid") == "true"
    assert page.locator("#f-headline-error").count() == 0
    assert page.get_by_label("Headline", exact=True).input_value() == HINDI_HEADLINE
    _check(page, "write-errors")

    published = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
    page.get_by_label("Published", exact=True).fill(published)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/desk/articles/hi-desk-1?saved=created")
    assert "Saved as version 1" in page.get_by_role("status").inner_text()
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == HINDI_HEADLINE and heading.get_attribute("dir") == "ltr"
    _check(page, "article")

    page.get_by_role("link", name="Sections").click()
    page.get_by_role("button", name="Regenerate वैश्विक").click()
    results = page.get_by_role("heading", name="Regenerated just now")
    results.wait_for()
    row = page.locator(".results tbody tr").first
    assert "global" in row.inner_text() and "yes" in row.inner_text()
    _check(page, "sections")
    with urllib.request.urlopen(desk.base + "/feeds/global/rss.xml", timeout=10) as response:
        feed = feedparser.parse(response.read())
    assert HINDI_HEADLINE in [entry.title for entry in feed.entries]
    page.goto(desk.base + "/desk/articles/hi-desk-1")
    where = page.locator("table", has=page.get_by_text("Reader feeds"))
    assert "in its feeds" in where.locator("tr", has_text="Global").inner_text()


def test_two_editors_at_once_the_second_sees_the_conflict_and_both_versions(
    browser: Any, desk: Desk
) -> None:
    _article(desk, "clash", headline="Budget passes in the assembly")
    editors = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        first, second = (context.new_page() for context in editors)
        for page in (first, second):
            _sign_in(page, desk)
            page.goto(desk.base + "/desk/articles/clash/edit")
        first.get_by_label("Headline", exact=True).fill("Budget passes after a late-night vote")
        first.get_by_role("button", name="Save").click()
        first.wait_for_url("**/desk/articles/clash?saved=updated")
        second.get_by_label("Summary", exact=True).fill("The opposition walked out.")
        second.get_by_label("Headline", exact=True).fill("Budget passes; opposition walks out")
        second.get_by_role("button", name="Save").click()
        alert = second.get_by_role("heading", name="Someone else saved this article meanwhile")
        alert.wait_for()
        row = second.locator(".conflict tr", has=second.locator("code", has_text="/headline"))
        cells = [t.strip() for t in row.locator("td").all_inner_texts()]
        assert cells == [
            "Budget passes after a late-night vote",
            "Budget passes; opposition walks out",
        ]
        _check(second, "conflict")
        stored = _api(desk, "GET", "/api/articles/clash")
        assert stored["version"] == 2
        assert stored["headline"] == "Budget passes after a late-night vote"
        assert "summary" not in stored
    finally:
        for context in editors:
            context.close()


def test_withdraw_asks_first_then_takes_the_article_out(page: Any, desk: Desk) -> None:
    _article(
        desk, "to-withdraw", sections=["global"], language="hi", headline=HINDI_HEADLINE + " (2)"
    )
    _sign_in(page, desk)
    page.goto(desk.base + "/desk/articles/to-withdraw")
    page.get_by_role("link", name="Withdraw").click()
    page.get_by_role("heading", name="Withdraw this article?").wait_for()
    assert _api(desk, "GET", "/api/articles/to-withdraw")["status"] == "published"
    _check(page, "withdraw")
    page.get_by_role("button", name="Withdraw").click()
    page.wait_for_url("**/desk/articles/to-withdraw?saved=withdrawn")
    assert page.locator(".badge.withdrawn").first.inner_text() == "withdrawn"
    assert _api(desk, "GET", "/api/articles/to-withdraw")["status"] == "withdrawn"


def test_a_forged_post_without_the_csrf_token_changes_nothing(page: Any, desk: Desk) -> None:
    _article(desk, "keep-me")
    _sign_in(page, desk)
    # With the editor's own cookie but no token (a script that got the cookie sent along):
    refused = page.request.post(
        desk.base + "/desk/articles/keep-me/withdraw", form={"confirm": "yes"}
    )
    assert refused.status == 403
    # A page on another site submitting a form to the desk: the cookie (SameSite=Strict)
    # stays home, and there is no token either.
    page.goto("about:blank")
    page.set_content(
        f'<form method="post" action="{desk.base}/desk/articles/keep-me/withdraw">'
        '<input name="confirm" value="yes"></form>'
    )
    with page.expect_navigation():
        page.evaluate("document.forms[0].submit()")
    assert "Not allowed" in page.get_by_role("heading", level=1).inner_text()
    stored = _api(desk, "GET", "/api/articles/keep-me")
    assert stored["status"] == "published" and stored["version"] == 1


def test_every_other_page_is_accessible_keyboard_usable_and_right_to_left_where_it_should_be(
    page: Any, browser: Any, desk: Desk
) -> None:
    _article(desk, "ar-1", headline=ARABIC_HEADLINE, language="ar", sections=["world"])
    release = (datetime.now(UTC) + timedelta(hours=3)).isoformat(timespec="seconds")
    _article(desk, "held-1", headline="Results embargoed until noon", embargo_until=release)
    # By keyboard alone: the skip link first, the token field focused, Enter signs in.
    page.goto(desk.base + "/desk/sign-in")
    assert page.evaluate("document.activeElement.id") == "f-token"
    page.keyboard.type(desk.editor)
    page.keyboard.press("Enter")
    page.wait_for_url("**/desk/articles")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    arabic = page.get_by_role("link", name=ARABIC_HEADLINE)
    assert arabic.get_attribute("dir") == "rtl" and arabic.get_attribute("lang") == "ar"
    assert arabic.evaluate("e => getComputedStyle(e).direction") == "rtl"
    _check(page, "articles")
    page.get_by_label("Search headlines", exact=True).fill("बाज़ार")
    page.get_by_label("Status", exact=True).select_option("published")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/desk/articles?**")
    assert HINDI_HEADLINE in page.locator("table.list tbody").inner_text()
    assert ARABIC_HEADLINE not in page.locator("table.list tbody").inner_text()
    _check(page, "articles-search")

    page.get_by_role("link", name="Embargoes").click()
    countdown = page.locator("time[data-countdown]").first
    page.wait_for_function(
        "document.querySelector('time[data-countdown]').textContent.startsWith('in ')"
    )
    first = countdown.inner_text()
    page.wait_for_function(
        "t => document.querySelector('time[data-countdown]').textContent !== t", arg=first
    )
    assert first.startswith("in 2 h") or first.startswith("in 3 h")
    _check(page, "embargoes")

    page.get_by_role("link", name="Tokens").click()
    assert "agency" in page.locator("table").first.inner_text()
    assert desk.editor not in page.content()
    _check(page, "tokens")

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=page.context.storage_state()
    )
    try:
        small = phone.new_page()
        small.goto(desk.base + "/desk/articles")
        assert small.evaluate("document.documentElement.scrollWidth") <= 390
        _check(small, "articles-phone")
        small.goto(desk.base + "/desk/articles/hi-desk-1")
        _check(small, "article-phone")
    finally:
        phone.close()
    print("\naxe violations of any impact per page:", json.dumps(AXE_RESULTS, sort_keys=True))
