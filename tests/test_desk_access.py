"""The desk's tokens and partners page over plain HTTP on both stores: admins create and rotate
tokens and add, remove and replay push destinations (secrets shown once, errors beside their
fields), through what `/api/tokens` and `/api/push` call; editors see it all and change
nothing; `/desk` leads to `/desk/`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from syndicate.core.clock import utc_now
from syndicate.core.model import Destination
from syndicate.service.push import cursor_key, replay_scope, subscribe
from syndicate.service.status import push_status
from syndicate.store.base import Store
from syndicate.validate import validate_record
from tests.helpers.clients import app_on
from tests.helpers.error_shape import error_body
from tests.helpers.pages import page, sign_in
from tests.helpers.records import record
from tests.helpers.settings import HTTP_BASE_URL, build_settings
from tests.helpers.tokens import auth_header, create_token

HOOK = "http://127.0.0.1:9/hook"  # loopback: plain http is allowed there


def _settings(tmp_path: Path) -> Any:
    return build_settings(tmp_path, base_url=HTTP_BASE_URL)


async def _pull(client: TestClient[Any, Any], secret: str) -> int:
    """A partner's pull of its section: the status it answers."""
    return (await client.get("/partners/ninjs/global.json", headers=auth_header(secret))).status


async def _only_destination(store: Store) -> Destination:
    (found,) = await store.destinations()
    return found


async def test_an_admin_creates_a_token_whose_secret_is_shown_once(
    store: Store, tmp_path: Path
) -> None:
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store, "admin"))
        listed = page(await (await client.get("/desk/tokens")).text())
        assert listed.xpath("//a[@href='/desk/tokens/new']/text()") == ["New token"]
        form = page(await (await client.get("/desk/tokens/new")).text())
        labels = form.xpath("//form[@action='/desk/tokens']//label/text()")
        assert {"Name", "Role", "Expires after", "Embargoed items early"} <= set(labels)
        made = await client.post(
            "/desk/tokens",
            data={
                "csrf": csrf,
                "name": "Agency ट्रिब्यून",
                "role": "partner",
                "sections": ["global", "india"],
                "embargoed": "yes",
                "expires_in": "30d",
            },
        )
        assert made.status == 201, await made.text()
        shown = page(await made.text())
        secret = shown.get_element_by_id("secret").get("value")
        assert secret.startswith("syn_")
        assert shown.xpath("string(//label[@for='secret'])") == "Token secret"
        (token,) = [t for t in await store.list_tokens() if t.name == "Agency ट्रिब्यून"]
        assert (token.role, token.sections, token.embargoed) == (
            "partner",
            ("global", "india"),
            True,
        )
        assert token.expires is not None
        expected = datetime.now(UTC) + timedelta(days=30)
        assert abs((token.expires - expected).total_seconds()) < 60
        assert await _pull(client, secret) in (200, 204)
        # Never again: the tokens page lists it, without its secret.
        again = await (await client.get("/desk/tokens")).text()
        assert "Agency ट्रिब्यून" in page(again).text_content()
        assert secret not in again and token.token_hash not in again


async def test_token_errors_are_shown_beside_their_fields(store: Store, tmp_path: Path) -> None:
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store, "admin"))
        before = len(await store.list_tokens())
        refused = await client.post(
            "/desk/tokens",
            data={"csrf": csrf, "name": "", "role": "partner", "expires_in": "forever"},
        )
        assert refused.status == 422
        tree = page(await refused.text())
        for name, words in (
            ("name", "a name of 1 to"),
            ("sections", "a partner token needs at least one section"),
            ("expires_in", "is not a lifetime"),
        ):
            assert words in tree.get_element_by_id(f"f-{name}-error").text, name
        assert tree.get_element_by_id("f-expires_in").get("aria-invalid") == "true"
        assert tree.get_element_by_id("f-expires_in").get("value") == "forever"
        no_role = await client.post("/desk/tokens", data={"csrf": csrf, "name": "x"})
        assert "one of editor" in page(await no_role.text()).get_element_by_id("f-role-error").text
        editor_sections = await client.post(
            "/desk/tokens",
            data={"csrf": csrf, "name": "x", "role": "editor", "sections": "global"},
        )
        error = page(await editor_sections.text()).get_element_by_id("f-sections-error").text
        assert "for partner tokens" in error
        taken = await client.post(
            "/desk/tokens", data={"csrf": csrf, "name": "test admin", "role": "editor"}
        )
        assert taken.status == 409
        assert "exists" in page(await taken.text()).get_element_by_id("f-name-error").text
        assert len(await store.list_tokens()) == before


async def test_an_admin_rotates_a_token(store: Store, tmp_path: Path) -> None:
    old = await create_token(store, "partner", ["global"])
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store, "admin"))
        listed = page(await (await client.get("/desk/tokens")).text())
        assert listed.xpath("//form[@action='/desk/tokens/test%20partner/rotate']")
        assert await _pull(client, old) in (200, 204)
        rotated = await client.post("/desk/tokens/test%20partner/rotate", data={"csrf": csrf})
        assert rotated.status == 200, await rotated.text()
        new = page(await rotated.text()).get_element_by_id("secret").get("value")
        assert new.startswith("syn_") and new != old
        assert await _pull(client, old) == 401
        assert await _pull(client, new) in (200, 204)
        unknown = await client.post("/desk/tokens/nobody/rotate", data={"csrf": csrf})
        assert unknown.status == 404


async def test_editors_see_tokens_and_destinations_and_change_nothing(
    store: Store, tmp_path: Path
) -> None:
    partner = await create_token(store, "partner", ["global"])
    destination = await subscribe(store, "test partner", HOOK, "ninjs", (), now=utc_now())
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store))
        shown = page(await (await client.get("/desk/tokens")).text())
        assert HOOK in shown.text_content()
        assert not shown.xpath("//form[@method='post'][not(@action='/desk/sign-out')]")
        assert not shown.xpath("//a[contains(@href, '/new') or contains(@href, '/replay')]")
        for path in ("/desk/tokens/new", "/desk/push/new", f"/desk/push/{destination.id}/replay"):
            assert (await client.get(path)).status == 403, path
        for path, data in (
            ("/desk/tokens", {"name": "mine", "role": "admin"}),
            ("/desk/tokens/test%20partner/rotate", {}),
            ("/desk/push", {"partner": "test partner", "url": HOOK, "format": "newsml"}),
            (f"/desk/push/{destination.id}/remove", {}),
            (f"/desk/push/{destination.id}/replay", {}),
        ):
            refused = await client.post(path, data={"csrf": csrf, **data})
            assert refused.status == 403, path
            assert "only an admin" in await refused.text()
        assert await _pull(client, partner) in (200, 204)
    assert {t.name for t in await store.list_tokens()} == {"test partner", "test editor"}
    assert await _only_destination(store) == destination


async def test_each_destination_shows_what_status_shows_and_never_its_secret(
    store: Store, tmp_path: Path
) -> None:
    await create_token(store, "partner", ["global", "india"])
    destination = await subscribe(store, "test partner", HOOK, "newsml", ("global",), now=utc_now())
    settings = _settings(tmp_path)
    for n in range(3):
        raw = record(f"a{n}", sections=["global"] if n < 2 else ["india"])
        await store.put(validate_record(raw, settings), now=datetime.now(UTC))
    (status,) = await push_status(store, None, datetime.now(UTC))
    assert status["queued"] == 2
    async with app_on(store, settings) as client:
        await sign_in(client, await create_token(store))
        text = await (await client.get("/desk/tokens")).text()
        assert destination.secret not in text
        row = page(text).get_element_by_id(f"push-{destination.id}")
        cells = {td.get("data-label"): td.text_content().strip() for td in row.iter("td")}
        assert cells["Partner"] == f"test partner{destination.id}"
        assert cells["URL"] == HOOK
        assert (cells["Format"], cells["Sections"]) == ("newsml", "Global")
        assert (cells["Queued"], cells["In flight"]) == ("2", "no")
        assert (cells["Delivered"], cells["Failed"], cells["Dead"]) == ("0", "0", "0")
        assert cells["Oldest undelivered"].endswith(" s")  # seconds ago
        assert cells["Last error"] == "—"


async def test_an_admin_adds_a_destination_and_sees_its_signing_secret_once(
    store: Store, tmp_path: Path
) -> None:
    await create_token(store, "partner", ["global"])
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store, "admin"))
        form = page(await (await client.get("/desk/push/new")).text())
        assert form.xpath("//select[@id='f-partner']/option/@value") == ["test partner"]
        base = {"csrf": csrf, "partner": "test partner", "format": "ninjs"}
        for sent, field, words in (
            ({"url": "http://news.example/hook"}, "url", "plain http only to loopback"),
            ({"url": "http://[::1/hook"}, "url", "a destination is an https:// URL"),
            ({"url": HOOK, "format": "rss"}, "format", "newsml or ninjs"),
            ({"url": HOOK, "sections": "india"}, "sections", "not entitled to india"),
            ({"url": HOOK, "partner": "nobody"}, "partner", "no partner token named"),
        ):
            refused = await client.post("/desk/push", data={**base, **sent})
            assert refused.status == 422, sent
            error = page(await refused.text()).get_element_by_id(f"f-{field}-error").text
            assert words in error, (sent, error)
        assert await store.destinations() == []
        added = await client.post("/desk/push", data={**base, "url": HOOK})
        assert added.status == 201, await added.text()
        shown = page(await added.text())
        secret = shown.get_element_by_id("secret").get("value")
        assert shown.xpath("string(//label[@for='secret'])") == "Signing secret"
        made = await _only_destination(store)
        assert (made.url, made.format, made.sections, made.secret) == (
            HOOK,
            "ninjs",
            ("global",),
            secret,
        )
        assert secret not in await (await client.get("/desk/tokens")).text()


async def test_an_admin_replays_from_a_cursor_or_the_start_and_removes(
    store: Store, tmp_path: Path
) -> None:
    await create_token(store, "partner", ["global"])
    settings = _settings(tmp_path)
    for n in range(3):
        await store.put(validate_record(record(f"r{n}"), settings), now=datetime.now(UTC))
    destination = await subscribe(store, "test partner", HOOK, "newsml", (), now=utc_now())
    assert destination.position > 0
    async with app_on(store, settings) as client:
        csrf = await sign_in(client, await create_token(store, "admin"))
        asked = page(await (await client.get(f"/desk/push/{destination.id}/replay")).text())
        assert asked.xpath("string(//label[@for='f-since'])") == "Cursor"
        bad = await client.post(
            f"/desk/push/{destination.id}/replay", data={"csrf": csrf, "since": "not-ours"}
        )
        assert bad.status == 422
        error = page(await bad.text()).get_element_by_id("f-since-error").text
        assert error.startswith("not one this service issued")
        assert error.endswith("leave it empty to replay everything from the start")
        assert (await _only_destination(store)).position == destination.position
        key = await cursor_key(store)
        cursor = key.encode(1, partner=destination.token_id, section=replay_scope(destination))
        done = await client.post(
            f"/desk/push/{destination.id}/replay",
            data={"csrf": csrf, "since": cursor},
            allow_redirects=False,
        )
        assert done.status == 303
        assert done.headers["Location"] == f"/desk/tokens?replayed={destination.id}"
        assert (await _only_destination(store)).position == 1
        await client.post(f"/desk/push/{destination.id}/replay", data={"csrf": csrf})
        assert (await _only_destination(store)).position == 0
        listed = page(await (await client.get(done.headers["Location"])).text())
        assert "Replaying to" in listed.xpath("string(//div[@role='status'])")
        gone = await client.post(
            f"/desk/push/{destination.id}/remove", data={"csrf": csrf}, allow_redirects=False
        )
        assert gone.status == 303
        assert await store.destinations() == []
        again = await client.post(f"/desk/push/{destination.id}/remove", data={"csrf": csrf})
        assert again.status == 404
        missing = await client.get(f"/desk/push/{destination.id}/replay")
        assert missing.status == 404


async def test_admin_forms_need_their_csrf_token(store: Store, tmp_path: Path) -> None:
    await create_token(store, "partner", ["global"])
    destination = await subscribe(store, "test partner", HOOK, "newsml", (), now=utc_now())
    async with app_on(store, _settings(tmp_path)) as client:
        csrf = await sign_in(client, await create_token(store, "admin"))
        for forged in ({}, {"csrf": csrf[:-2] + "xx"}):
            for path, data in (
                ("/desk/tokens", {"name": "sneaky", "role": "admin"}),
                ("/desk/tokens/test%20partner/rotate", {}),
                ("/desk/push", {"partner": "test partner", "url": HOOK, "format": "newsml"}),
                (f"/desk/push/{destination.id}/remove", {}),
                (f"/desk/push/{destination.id}/replay", {}),
            ):
                refused = await client.post(path, data={**data, **forged})
                assert refused.status == 403, (path, forged)
                assert "security token" in await refused.text()
    assert {t.name for t in await store.list_tokens()} == {"test partner", "test admin"}
    assert await _only_destination(store) == destination


async def test_the_push_api_names_the_field_at_fault(store: Store, tmp_path: Path) -> None:
    await create_token(store, "partner", ["global"])
    async with app_on(store, _settings(tmp_path)) as client:
        admin = auth_header(await create_token(store, "admin"))
        for body, path in (
            ({"url": "http://[::1/hook"}, "/url"),
            ({"url": "ftp://news.example/hook"}, "/url"),
            ({"url": HOOK, "format": "rss"}, "/format"),
            ({"url": HOOK, "sections": ["india"]}, "/sections"),
        ):
            sent = {"partner": "test partner", "format": "ninjs", **body}
            errors = await error_body(await client.post("/api/push", json=sent, headers=admin), 422)
            assert [e["path"] for e in errors] == [path], errors


async def test_desk_without_its_slash_leads_to_the_desk(store: Store, tmp_path: Path) -> None:
    async with app_on(store, _settings(tmp_path)) as client:
        for path, target in (("/desk", "/desk/"), ("/desk?x=1", "/desk/?x=1")):
            moved = await client.get(path, allow_redirects=False)
            assert moved.status == 301
            assert moved.headers["Location"] == target
        followed = await client.get("/desk")
        assert followed.status == 200 and followed.url.path == "/desk/sign-in"
