"""The desk over plain HTTP on both stores: sessions and their cookie, CSRF, the sign-in
slow-down, security headers, errors beside their fields and edit conflicts."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from syndicate.core.config import settings_from_mapping
from syndicate.core.errors import ConfigError
from syndicate.core.tokens import hash_token
from syndicate.store.base import Store
from syndicate.validate import validate_record
from syndicate.web.desk.session import COOKIE
from tests.helpers.clients import app_on
from tests.helpers.pages import form_csrf, page, sign_in
from tests.helpers.paths import ROOT
from tests.helpers.records import hindi_record, record
from tests.helpers.settings import HTTP_BASE_URL, SECTIONS, build_settings
from tests.helpers.stores import StoreFactory
from tests.helpers.texts import HINDI_HEADLINE
from tests.helpers.tokens import create_token


def _settings(tmp_path: Path, **overrides: Any) -> Any:
    return build_settings(tmp_path, base_url=HTTP_BASE_URL, **overrides)


def _session_cookie(client: TestClient[Any, Any]) -> str:
    found = [c.value for c in client.session.cookie_jar if c.key == COOKIE]
    assert len(found) == 1, found
    return found[0]


async def _store_article(store: Store, tmp_path: Path, raw: dict[str, Any]) -> None:
    await store.put(validate_record(raw, _settings(tmp_path)), now=datetime.now(UTC))


def _set_cookie(response: Any, name: str) -> Any:
    for header in response.headers.getall("Set-Cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar[name]
    raise AssertionError(f"no Set-Cookie for {name}")


async def test_sign_in_keeps_a_hashed_session_in_an_httponly_strict_cookie(
    store: Store, tmp_path: Path
) -> None:
    async with app_on(store, _settings(tmp_path)) as client:
        secret = await create_token(store)
        form = await client.get("/desk/sign-in")
        signed = await client.post(
            "/desk/sign-in",
            data={"token": secret, "csrf": form_csrf(await form.text())},
            allow_redirects=False,
        )
        assert signed.status == 303
        cookie = _set_cookie(signed, COOKIE)
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
        assert cookie["path"] == "/desk/"
        assert not cookie["secure"]  # the base URL is http: a Secure cookie would never return
        assert len(cookie.value) >= 40
        # The store keeps only the hash: the cookie's value itself finds nothing.
        since = datetime.now(UTC) - timedelta(hours=1)
        assert await store.find_desk_session(cookie.value, idle_since=since) is None
        kept = await store.find_desk_session(hash_token(cookie.value), idle_since=since)
        assert kept is not None and kept.token.role == "editor"
        listing = await client.get("/desk/articles")
        assert listing.status == 200
        assert page(await listing.text()).xpath("//h1/text()") == ["Articles"]


async def test_the_cookie_is_secure_when_the_base_url_is_https(
    store: Store, tmp_path: Path
) -> None:
    async with app_on(store, build_settings(tmp_path)) as client:
        secret = await create_token(store)
        form = await client.get("/desk/sign-in")
        pre = _set_cookie(form, "syndicate_desk_signin")
        assert pre["secure"] is True
        # A client on plain http does not send a Secure cookie back: send it by hand.
        signed = await client.post(
            "/desk/sign-in",
            data={"token": secret, "csrf": form_csrf(await form.text())},
            headers={"Cookie": f"syndicate_desk_signin={pre.value}"},
            allow_redirects=False,
        )
        assert signed.status == 303
        assert _set_cookie(signed, COOKIE)["secure"] is True


@pytest.mark.parametrize("role", ["partner", "metrics"])
async def test_partner_and_metrics_tokens_cannot_sign_in(
    store: Store, tmp_path: Path, role: str
) -> None:
    async with app_on(store, _settings(tmp_path)) as client:
        secret = await create_token(store, role, ["global"] if role == "partner" else None)
        form = await client.get("/desk/sign-in")
        refused = await client.post(
            "/desk/sign-in",
            data={"token": secret, "csrf": form_csrf(await form.text())},
            allow_redirects=False,
        )
        assert refused.status == 401
        tree = page(await refused.text())
        assert f"A {role} token cannot sign in" in tree.get_element_by_id("f-token-error").text
        assert tree.get_element_by_id("f-token").get("aria-invalid") == "true"
        assert not [c for c in client.session.cookie_jar if c.key == COOKIE]
        assert (await client.get("/desk/articles", allow_redirects=False)).status == 303


async def test_sign_out_and_a_revoked_token_end_the_session(store: Store, tmp_path: Path) -> None:
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store))
        cookie = _session_cookie(client)
        out = await client.post("/desk/sign-out", data={"csrf": csrf}, allow_redirects=False)
        assert out.status == 303 and out.headers["Location"] == "/desk/sign-in"
        # Even a client that kept the old cookie has no session now.
        client.session.cookie_jar.update_cookies({COOKIE: cookie})
        assert (await client.get("/desk/articles", allow_redirects=False)).status == 303
        await sign_in(client, await create_token(store))
        await store.revoke_tokens("test editor", now=datetime.now(UTC))
        gone = await client.get("/desk/articles", allow_redirects=False)
        assert gone.status == 303 and gone.headers["Location"] == "/desk/sign-in"


async def test_a_session_ends_after_the_idle_timeout(store: Store, tmp_path: Path) -> None:
    async with app_on(store, _settings(tmp_path, desk_idle_timeout=600)) as client:
        await sign_in(client, await create_token(store))
        session_hash = hash_token(_session_cookie(client))
        # Used 9 minutes ago: still alive (and the use now starts its idle time again).
        await store.touch_desk_session(session_hash, now=datetime.now(UTC) - timedelta(minutes=9))
        assert (await client.get("/desk/articles", allow_redirects=False)).status == 200
        # Unused for 11 minutes: over.
        await store.touch_desk_session(session_hash, now=datetime.now(UTC) - timedelta(minutes=11))
        assert (await client.get("/desk/articles", allow_redirects=False)).status == 303


async def test_a_session_works_on_another_process_sharing_the_store(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    one, two = store_factory(), store_factory()
    await one.open()
    await two.open()
    settings = _settings(tmp_path)
    async with app_on(one, settings) as first, app_on(two, settings) as second:
        await sign_in(first, await create_token(one))
        second.session.cookie_jar.update_cookies({COOKIE: _session_cookie(first)})
        assert (await second.get("/desk/articles", allow_redirects=False)).status == 200


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    store: Store, tmp_path: Path
) -> None:
    await _store_article(store, tmp_path, hindi_record("hi-1"))
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store))
        edit = hindi_record("hi-1", headline="बदली हुई सुर्खी")
        fields = {k: v for k, v in edit.items() if isinstance(v, str)} | {"version": "1"}
        for forged in ({}, {"csrf": ""}, {"csrf": csrf[:-2] + "xx"}):
            for path, data in (
                ("/desk/write", fields | forged),
                ("/desk/articles/hi-1/withdraw", {"confirm": "yes"} | forged),
                ("/desk/sections/regenerate", forged),
                ("/desk/sign-out", forged),
            ):
                refused = await client.post(path, data=data, allow_redirects=False)
                assert refused.status == 403, (path, forged, refused.status)
                assert "security token" in await refused.text()
        stored = await store.get("hi-1")
        assert stored is not None and stored.version == 1 and stored.status == "published"
        assert stored.headline == HINDI_HEADLINE
        assert (await client.get("/desk/articles", allow_redirects=False)).status == 200
        # The same form with its token goes through.
        saved = await client.post(
            "/desk/write",
            data=fields | {"csrf": csrf, "sections": "global"},
            allow_redirects=False,
        )
        assert saved.status == 303, await saved.text()
        stored = await store.get("hi-1")
        assert stored is not None and stored.version == 2 and stored.headline == "बदली हुई सुर्खी"


async def test_a_sign_in_form_without_its_csrf_value_is_refused(
    store: Store, tmp_path: Path
) -> None:
    async with app_on(store, _settings(tmp_path)) as client:
        secret = await create_token(store)
        await client.get("/desk/sign-in")
        refused = await client.post("/desk/sign-in", data={"token": secret, "csrf": "x" * 43})
        assert refused.status == 403
        assert not [c for c in client.session.cookie_jar if c.key == COOKIE]


async def test_five_failed_sign_ins_in_a_minute_slow_further_tries(
    store: Store, tmp_path: Path
) -> None:
    async with app_on(store, _settings(tmp_path)) as client:
        secret = await create_token(store)
        csrf = form_csrf(await (await client.get("/desk/sign-in")).text())
        for _ in range(5):
            bad = await client.post("/desk/sign-in", data={"token": "syn_wrong", "csrf": csrf})
            assert bad.status == 401
        slowed = await client.post("/desk/sign-in", data={"token": secret, "csrf": csrf})
        assert slowed.status == 429
        assert 1 <= int(slowed.headers["Retry-After"]) <= 60
        assert "Too many failed sign-ins" in await slowed.text()
        assert not [c for c in client.session.cookie_jar if c.key == COOKIE]


async def test_desk_pages_carry_security_headers(store: Store, tmp_path: Path) -> None:
    async with app_on(store, _settings(tmp_path)) as client:
        await sign_in(client, await create_token(store))
        for path in ("/desk/sign-in", "/desk/articles", "/desk/sections", "/desk/nowhere"):
            response = await client.get(path)
            csp = response.headers["Content-Security-Policy"]
            directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
            assert directives["script-src"] == "'self'", csp
            assert "unsafe-inline" not in csp
            assert directives["frame-ancestors"] == "'none'"
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["Referrer-Policy"] == "same-origin"
            assert response.headers["Cache-Control"] == "no-store"
            tree = page(await response.text())
            assert not tree.xpath("//script[not(@src)]"), f"inline script on {path}"
            assert not tree.xpath("//*[@style or @onclick or @onload]"), path


async def test_errors_are_shown_beside_the_field_they_name(store: Store, tmp_path: Path) -> None:
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store))
        raw = hindi_record("hi-bad", published="कल सुबह", canonical_url="not a url")
        fields = {k: v for k, v in raw.items() if isinstance(v, str)}
        refused = await client.post(
            "/desk/write", data=fields | {"csrf": csrf, "version": "", "sections": "global"}
        )
        assert refused.status == 422
        tree = page(await refused.text())
        for name in ("published", "canonical_url"):
            field = tree.get_element_by_id(f"f-{name}")
            assert field.get("aria-invalid") == "true"
            assert f"f-{name}-error" in field.get("aria-describedby")
            assert tree.get_element_by_id(f"f-{name}-error").text.strip()
        # What the editor typed is kept, Devanagari and all.
        assert tree.get_element_by_id("f-headline").get("value") == HINDI_HEADLINE
        assert tree.get_element_by_id("f-headline").get("lang") == "hi"
        assert await store.get("hi-bad") is None


async def test_a_stale_version_is_a_conflict_showing_both_versions(
    store: Store, tmp_path: Path
) -> None:
    await _store_article(store, tmp_path, record("c1", headline="Original"))
    await _store_article(store, tmp_path, record("c1", headline="Theirs"))
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store))
        mine = {k: v for k, v in record("c1", headline="Mine").items() if isinstance(v, str)}
        clash = await client.post(
            "/desk/write", data=mine | {"csrf": csrf, "version": "1", "sections": "india"}
        )
        assert clash.status == 409
        tree = page(await clash.text())
        row = tree.xpath("//section[@class='conflict']//tr[th/code='/headline']/td/text()")
        assert [t.strip() for t in row] == ["Theirs", "Mine"]
        # The form now stands on the stored version: saving it is a deliberate replacement.
        assert tree.xpath("//input[@name='version']/@value") == ["2"]
        stored = await store.get("c1")
        assert stored is not None and stored.version == 2 and stored.headline == "Theirs"
        # A new article under an existing ID is a conflict too, never a silent replacement.
        new = await client.post(
            "/desk/write", data=mine | {"csrf": csrf, "version": "", "sections": "india"}
        )
        assert new.status == 409
        assert (await store.get("c1")).headline == "Theirs"  # type: ignore[union-attr]


async def test_an_admin_reads_the_desk_but_does_not_write(store: Store, tmp_path: Path) -> None:
    await _store_article(store, tmp_path, record("a1"))
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store, "admin"))
        assert (await client.get("/desk/articles/a1")).status == 200
        assert (await client.get("/desk/tokens")).status == 200
        assert (await client.get("/desk/write")).status == 403
        refused = await client.post(
            "/desk/articles/a1/withdraw", data={"csrf": csrf, "confirm": "yes"}
        )
        assert refused.status == 403
        assert (await store.get("a1")).status == "published"  # type: ignore[union-attr]


def test_the_idle_timeout_is_a_checked_setting() -> None:
    assert settings_from_mapping({}, {}).desk_idle_timeout == 3600.0
    made = settings_from_mapping({"sections": SECTIONS}, {"SYNDICATE_DESK_IDLE_TIMEOUT": "900"})
    assert made.desk_idle_timeout == 900.0
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({}, {"SYNDICATE_DESK_IDLE_TIMEOUT": "0"})
    assert caught.value.message.startswith("desk_idle_timeout (from SYNDICATE_DESK_IDLE_TIMEOUT):")


def test_make_run_prints_the_desk_url(tmp_path: Path) -> None:
    """`make run` is `syndicate demo` then `syndicate serve`: the first prints the desk's URL
    beside the token to sign in with (the second says it too, see the browser tests)."""
    from click.testing import CliRunner

    from syndicate.cli import main

    env = {k: None for k in os.environ if k.startswith("SYNDICATE_")} | {
        "SYNDICATE_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
        "SYNDICATE_FEEDS_DIR": str(tmp_path / "feeds"),
        "SYNDICATE_BASE_URL": "http://127.0.0.1:8080",
    }
    default = ROOT / "syndicate" / "default.toml"
    result = CliRunner(env=env).invoke(main, ["--config", str(default), "demo"])
    assert result.exit_code == 0, result.output
    assert "The editors' desk: http://127.0.0.1:8080/desk/" in result.stdout


async def test_tokens_are_shown_to_editors_and_revoked_only_by_an_admin(
    store: Store, tmp_path: Path
) -> None:
    await create_token(store, "partner", ["global"])
    async with app_on(store, _settings(tmp_path)) as editor:
        csrf = await sign_in(editor, await create_token(store))
        shown = page(await (await editor.get("/desk/tokens")).text())
        assert "test partner" in shown.text_content()
        assert not shown.xpath("//form[contains(@action, '/revoke')]")
        refused = await editor.post("/desk/tokens/test%20partner/revoke", data={"csrf": csrf})
        assert refused.status == 403
    assert any(t.name == "test partner" for t in await store.list_tokens())
    async with app_on(store, _settings(tmp_path)) as admin:
        csrf = await sign_in(admin, await create_token(store, "admin"))
        listed = page(await (await admin.get("/desk/tokens")).text())
        assert listed.xpath("//form[@action='/desk/tokens/test%20partner/revoke']")
        done = await admin.post(
            "/desk/tokens/test%20partner/revoke", data={"csrf": csrf}, allow_redirects=False
        )
        assert done.status == 303
    assert not any(t.name == "test partner" for t in await store.list_tokens())
