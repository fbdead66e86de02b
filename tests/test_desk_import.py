"""The desk's import page over plain HTTP on both stores: a pasted or uploaded page, its
preview (the dry run: every field, what was dropped and why), then Import, which stores what
`syndicate import page` and `POST /api/import/page` store; bounds, errors beside fields, CSRF.
"""

from __future__ import annotations

import io
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from syndicate.importing.page import MAX_PAGE_BYTES
from syndicate.pipeline.imports import PageOptions, import_page
from syndicate.store.base import Store
from tests.helpers.clients import app_on
from tests.helpers.imports import STORIES, canonical, html_page, seed_page
from tests.helpers.pages import page, sign_in
from tests.helpers.settings import HTTP_BASE_URL, build_settings
from tests.helpers.texts import AYODHYA, DALAI_LAMA, SEED_HEADLINE
from tests.helpers.tokens import create_token


def _settings(tmp_path: Path, **overrides: Any) -> Any:
    return build_settings(tmp_path, base_url=HTTP_BASE_URL, **overrides)


def _form(csrf: str, **fields: Any) -> aiohttp.FormData:
    """The import form as a browser sends it (multipart, the CSRF token first)."""
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field("csrf", csrf)
    for name, value in fields.items():
        if name == "file":
            file_name, body, media_type = value
            # As a stream: aiohttp warns that a large bytes body would block the loop.
            data.add_field("file", io.BytesIO(body), filename=file_name, content_type=media_type)
            continue
        for one in value if isinstance(value, list) else [value]:
            data.add_field(name, one)
    return data


def _preview_fields(tree: Any) -> dict[str, Any]:
    """The preview's fields: label -> the <dd> element."""
    return {
        dt.text_content().strip(): dt.getnext()
        for dt in tree.xpath("//section[@class='preview']//dl[@class='fields']/div/dt")
    }


async def _import_page(client: TestClient[Any, Any], csrf: str, **fields: Any) -> Any:
    """Preview, then press Import as the preview page offers it; the final answer."""
    preview = await client.post("/desk/import", data=_form(csrf, action="preview", **fields))
    assert preview.status == 200, await preview.text()
    digest = page(await preview.text()).xpath("//input[@name='previewed']/@value")
    assert digest and digest[0], "the preview offers no Import"
    return await client.post(
        "/desk/import",
        data=_form(csrf, action="import", previewed=digest[0], **fields),
        allow_redirects=False,
    )


async def test_the_seed_page_previews_every_field_then_imports_as_the_cli_does(
    store: Store, tmp_path: Path
) -> None:
    text = seed_page()
    settings = _settings(tmp_path)
    async with app_on(store, settings) as client:
        csrf = await sign_in(client, await create_token(store))
        form = page(await (await client.get("/desk/import")).text())
        assert form.xpath("//form[@id='import-form']/@enctype") == ["multipart/form-data"]
        assert form.xpath("//label[@for='f-text']/text()") == ["Page"]
        assert form.xpath("//nav//a[@aria-current='page']/text()") == ["Import"]
        preview = await client.post("/desk/import", data=_form(csrf, text=text))
        assert preview.status == 200, await preview.text()
        tree = page(await preview.text())
        fields = _preview_fields(tree)
        assert fields["Headline"].text_content().strip() == SEED_HEADLINE
        assert fields["Headline"].get("lang") == "hi"
        assert fields["Summary"].text_content().strip().endswith("किम जोंग उन से मुलाकात की।")
        related = [li.xpath("string(span[1])") for li in fields["Related"].iter("li")]
        assert related == [AYODHYA, DALAI_LAMA]
        paragraphs = [p.text_content() for p in fields["Body"].iter("p")]
        assert len(paragraphs) == 4 and paragraphs[0].startswith("इस मुलाकात में")
        assert "Global" in fields["Sections"].text_content()
        assert "Top Story" in fields["Sections"].text_content()
        reasons = {
            tr.xpath("string(td[1])"): tr.xpath("string(td[2])")
            for tr in tree.xpath("//section[@aria-labelledby='dropped-h']//tbody/tr")
        }
        assert reasons["GlobalTop Story"] == "the site's section strip"
        assert reasons["Leave a Reply"] == "page furniture: the comment form"
        notes = tree.xpath("string(//ul[contains(@class, 'notes')])")
        assert "not matched against stored headlines in a dry run" in notes
        assert "A new article" in tree.xpath("string(//section[@class='preview']/p)")
        assert await store.count(None, now=datetime.now(UTC)) == 0  # a preview stores nothing

        done = await _import_page(client, csrf, text=text)
        assert done.status == 303, await done.text()
        location = done.headers["Location"]
        assert location.startswith("/desk/articles/page-") and location.endswith("?saved=created")
        article_id = location.split("/")[-1].split("?")[0]
        stored = await store.get(article_id)
        assert stored is not None and stored.version == 1
        # What the desk stored is what the one import path makes of the page.
        dry = await import_page(
            "x", text, "text", settings, None, PageOptions(), now=datetime.now(UTC)
        )
        assert dry.record is not None
        same = {k: v for k, v in dry.record.items() if k != "published"}
        assert {k: stored.record[k] for k in same} == same
        shown = page(await (await client.get(location)).text())
        assert shown.xpath("string(//h1)") == SEED_HEADLINE
        assert "Saved as version 1" in shown.xpath("string(//div[@role='status'])")

        # Again: the same id, and nothing changes; the preview says it is stored.
        again = await client.post("/desk/import", data=_form(csrf, text=text))
        said = page(await again.text()).xpath("string(//section[@class='preview']/p)")
        assert "is stored (version 1, published)" in said
        repeat = await _import_page(client, csrf, text=text)
        assert repeat.headers["Location"] == f"/desk/articles/{article_id}?saved=unchanged"


async def test_an_uploaded_html_file_with_the_editors_options(store: Store, tmp_path: Path) -> None:
    story = STORIES["en"]
    html = html_page(story, "plain").encode("utf-8")
    url = "https://old.example/news/flood-warning"
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store))
        options = {
            "sections": ["business", "india"],
            "language": "en-GB",
            "url": url,
            "published": "2024-06-19T20:15:00+05:30",
        }
        upload = ("story.html", html, "text/html")
        preview = await client.post("/desk/import", data=_form(csrf, file=upload, **options))
        assert preview.status == 200, await preview.text()
        tree = page(await preview.text())
        fields = _preview_fields(tree)
        assert fields["Headline"].text_content().strip() == story.headline
        assert fields["Canonical URL"].text_content().strip() == url
        assert fields["Language"].text_content().strip() == "en-GB"
        # The file's text now stands in the page field, recognised as HTML.
        assert tree.get_element_by_id("f-text").text == html.decode("utf-8")
        assert tree.xpath("//select[@id='f-kind']/option[@selected]/@value") == ["html"]
        assert "story.html" in tree.xpath("string(//p[code='story.html'])")
        done = await _import_page(client, csrf, file=upload, **options)
        assert done.status == 303, await done.text()
        stored = await store.get(done.headers["Location"].split("/")[-1].split("?")[0])
        assert stored is not None
        assert stored.sections == ("business", "india")
        assert (stored.canonical_url, stored.language) == (url, "en-GB")
        assert stored.record["published"] == "2024-06-19T20:15:00+05:30"
        assert story.headline == stored.headline and canonical(story) != url


async def test_a_page_with_no_headline_or_body_is_refused_beside_the_page(
    store: Store, tmp_path: Path
) -> None:
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store))
        for text, reason in (
            ("Just a headline", "no body text could be extracted from the page"),
            ("<html><body><div></div></body></html>", "no headline could be extracted"),
            ("", "paste the page here, or choose a file below"),
        ):
            refused = await client.post(
                "/desk/import", data=_form(csrf, text=text, sections="global")
            )
            assert refused.status == 422, (text, refused.status)
            tree = page(await refused.text())
            assert reason in tree.get_element_by_id("f-text-error").text
            assert tree.get_element_by_id("f-text").get("aria-invalid") == "true"
            assert not tree.xpath("//button[@value='import']"), "no Import for a refused page"
        assert await store.count(None, now=datetime.now(UTC)) == 0


async def test_bad_options_are_named_beside_their_fields(store: Store, tmp_path: Path) -> None:
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store))
        refused = await client.post(
            "/desk/import",
            data=_form(
                csrf,
                text=seed_page(),
                sections=["global", "nowhere"],
                url="ftp://old.example/x",
                published="कल सुबह",
            ),
        )
        assert refused.status == 422
        tree = page(await refused.text())
        assert "'nowhere' is not declared" in tree.get_element_by_id("f-sections-error").text
        assert "not an absolute http(s) URL" in tree.get_element_by_id("f-url-error").text
        assert "RFC 3339" in tree.get_element_by_id("f-published-error").text
        # What the editor sent is kept, to correct.
        assert tree.get_element_by_id("f-published").get("value") == "कल सुबह"
        assert tree.xpath("//input[@id='f-sections-global']/@checked")
        bad_language = await client.post(
            "/desk/import", data=_form(csrf, text=seed_page(), language="hindi")
        )
        assert bad_language.status == 422
        error = page(await bad_language.text()).get_element_by_id("f-language-error").text
        assert "language" in error.lower() or "BCP 47" in error


async def test_uploads_are_bounded(store: Store, tmp_path: Path) -> None:
    async with app_on(store, _settings(tmp_path, max_request_bytes=7 * 1024 * 1024)) as client:
        csrf = await sign_in(client, await create_token(store))
        big = b"<html><body><h1>Big</h1>" + b"<p>word</p>" * (MAX_PAGE_BYTES // 11) + b"</body>"
        assert MAX_PAGE_BYTES < len(big) < 7 * 1024 * 1024
        refused = await client.post(
            "/desk/import", data=_form(csrf, file=("big.html", big, "text/html"))
        )
        assert refused.status == 422
        error = page(await refused.text()).get_element_by_id("f-file-error").text
        assert f"more than {MAX_PAGE_BYTES} bytes" in error
        with warnings.catch_warnings():
            # A browser sends a big text field in one piece too (aiohttp would stream a file).
            warnings.simplefilter("ignore", ResourceWarning)
            pasted = await client.post("/desk/import", data=_form(csrf, text=big.decode()))
        assert pasted.status == 422
        assert "at most" in page(await pasted.text()).get_element_by_id("f-text-error").text
        # Beyond what the service takes in one request: refused before it is read whole.
        huge = b"x" * (7 * 1024 * 1024 + 1)
        too_big = await client.post(
            "/desk/import", data=_form(csrf, file=("huge.txt", huge, "text/plain"))
        )
        assert too_big.status == 413
        assert "Too large" in page(await too_big.text()).xpath("string(//h1)")
        assert await store.count(None, now=datetime.now(UTC)) == 0


async def test_import_stores_only_the_page_that_was_previewed(store: Store, tmp_path: Path) -> None:
    text = seed_page()
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store))
        preview = await client.post("/desk/import", data=_form(csrf, text=text))
        digest = page(await preview.text()).xpath("//input[@name='previewed']/@value")[0]
        # The text changed after the preview (or no preview at all): the preview again.
        for sent in ({"previewed": digest, "sections": "india"}, {"previewed": ""}):
            shown = await client.post(
                "/desk/import", data=_form(csrf, text=text, action="import", **sent)
            )
            assert shown.status == 409
            tree = page(await shown.text())
            assert tree.xpath("string(//div[@class='conflict']/h2)") == "Check the preview again"
            assert tree.xpath("//section[@class='preview']")
        assert await store.count(None, now=datetime.now(UTC)) == 0


async def test_import_needs_the_csrf_token_and_an_editor(store: Store, tmp_path: Path) -> None:
    text = seed_page()
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store))
        preview = await client.post("/desk/import", data=_form(csrf, text=text))
        digest = page(await preview.text()).xpath("//input[@name='previewed']/@value")[0]
        for forged in ("", csrf[:-2] + "xx"):
            refused = await client.post(
                "/desk/import",
                data=_form(forged, text=text, action="import", previewed=digest),
            )
            assert refused.status == 403
            assert "security token" in await refused.text()
        assert await store.count(None, now=datetime.now(UTC)) == 0
    async with app_on(store, _settings(tmp_path)) as admin:
        csrf = await sign_in(admin, await create_token(store, "admin"))
        assert (await admin.get("/desk/import")).status == 403
        navigation = page(await (await admin.get("/desk/articles")).text())
        assert not navigation.xpath("//nav//a[@href='/desk/import']")
        refused = await admin.post(
            "/desk/import", data=_form(csrf, text=text, action="import", previewed=digest)
        )
        assert refused.status == 403
    assert await store.count(None, now=datetime.now(UTC)) == 0


async def test_a_body_that_is_no_form_is_a_bad_request(store: Store, tmp_path: Path) -> None:
    boundary = "b0undary"
    multipart = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    async with app_on(store, _settings(tmp_path)) as client:
        await sign_in(client, await create_token(store))
        for body in (
            b"no boundary at all",
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n'
                f"Content-Type: text/plain; charset=nonsense\r\n\r\nx\r\n--{boundary}--\r\n"
            ).encode(),
        ):
            refused = await client.post("/desk/import", data=body, headers=multipart)
            assert refused.status == 400, await refused.text()
            assert "the form could not be read" in await refused.text()
