"""One clock: what `create_app(clock=)` is given is "now" for the whole app (saves, token
checks, the desk, status, releases, pushes), and the package reads the wall clock nowhere else.

The clocks here are years from the machine's time, so a part that read the wall clock
instead would stamp, expire or release differently and fail the test.
"""

from __future__ import annotations

import ast
import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

import syndicate
from syndicate.core.clock import Clock
from syndicate.core.config import Settings
from syndicate.core.tokens import new_token
from syndicate.pipeline.regenerate import Regenerator
from syndicate.pipeline.render_pool import RenderPool
from syndicate.pipeline.served import FeedCache
from syndicate.service.push import Pusher, subscribe
from syndicate.service.schedule import Scheduler
from syndicate.store.base import Store
from tests.helpers.clients import Client, start_app
from tests.helpers.error_shape import first_error
from tests.helpers.pages import form_csrf, page, sign_in
from tests.helpers.records import validated_record
from tests.helpers.tokens import auth_header, partner_header

FIXED = datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)

PACKAGE = Path(syndicate.__file__).parent
# The outermost callers build the default clock; everything else is handed one.
MAY_READ_THE_CLOCK = {"core/clock.py", "cli", "bench"}
# A temp file's age is judged by the clock that stamped its mtime (the OS's), not the app's.
FILE_AGE = ("pipeline/publish.py", "time.time")
WALL_CLOCK_READS = {"datetime.now", "datetime.utcnow", "date.today", "time.time"}


async def _client(store: Store, settings: Settings, clock: Clock) -> Client:
    return await start_app(settings, store=store, run_scheduler=False, clock=clock)


async def test_saves_withdrawals_bulk_and_status_take_the_app_clock(
    store: Store, settings: Settings
) -> None:
    now = [FIXED]
    client = await _client(store, settings, lambda: now[0])
    try:
        editor = await partner_header(store, role="editor")
        made = await client.post(
            "/api/articles", json=validated_record("one", settings), headers=editor
        )
        assert made.status == 201, await made.text()
        saved = await store.get("one")
        assert saved is not None
        assert saved.first_created == FIXED and saved.version_created == FIXED

        now[0] = FIXED + timedelta(hours=1)
        assert (await client.delete("/api/articles/one", headers=editor)).status == 200
        withdrawn = await store.get("one")
        assert withdrawn is not None and withdrawn.status == "withdrawn"
        assert withdrawn.version_created == FIXED + timedelta(hours=1)

        now[0] = FIXED + timedelta(hours=2)
        bulk = await client.post(
            "/api/articles/bulk",
            data=json.dumps(validated_record("two", settings)) + "\n",
            headers={**editor, "Content-Type": "application/x-ndjson"},
        )
        assert bulk.status == 200, await bulk.text()
        two = await store.get("two")
        assert two is not None and two.version_created == FIXED + timedelta(hours=2)

        status = await (await client.get("/api/status", headers=editor)).json()
        assert datetime.fromisoformat(status["now"]) == FIXED + timedelta(hours=2)
    finally:
        await client.close()


async def test_a_token_expires_by_the_app_clock(store: Store, settings: Settings) -> None:
    secret, digest = new_token()
    await store.add_token(
        name="desk", role="editor", token_hash=digest, now=FIXED - timedelta(days=30),
        expires=FIXED,
    )  # fmt: skip
    headers = auth_header(secret)
    before = await _client(store, settings, lambda: FIXED - timedelta(seconds=1))
    after = await _client(store, settings, lambda: FIXED + timedelta(seconds=1))
    try:
        assert (await before.get("/api/status", headers=headers)).status == 200
        assert "expired" in await first_error(await after.get("/api/status", headers=headers), 401)
    finally:
        await before.close()
        await after.close()


async def test_the_desk_signs_in_by_the_app_clock(store: Store, settings: Settings) -> None:
    secret, digest = new_token()
    await store.add_token(
        name="desk", role="editor", token_hash=digest, now=FIXED - timedelta(days=30),
        expires=FIXED,
    )  # fmt: skip
    before = await _client(store, settings, lambda: FIXED - timedelta(seconds=1))
    after = await _client(store, settings, lambda: FIXED + timedelta(seconds=1))
    try:
        await sign_in(before, secret)  # asserts the redirect to the articles
        form = await after.get("/desk/sign-in")
        refused = await after.post(
            "/desk/sign-in",
            data={"token": secret, "csrf": form_csrf(await form.text())},
            allow_redirects=False,
        )
        assert refused.status != 303
        assert "This token has expired" in page(await refused.text()).text_content()
    finally:
        await before.close()
        await after.close()


async def test_the_scheduler_releases_by_its_clock(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    here = settings.with_overrides(feeds_dir=tmp_path / "feeds")
    held = validated_record("held", here, embargo_until=FIXED.isoformat())
    await store.put(held, now=FIXED - timedelta(days=1))

    def scheduler(clock: Clock) -> Scheduler:
        regenerator = Regenerator(here, store, FeedCache(), clock=clock, pool=RenderPool(0))
        return Scheduler(here, store, regenerator, clock=clock)

    early = scheduler(lambda: FIXED - timedelta(seconds=1))
    await early.sync_releases()
    assert early.last_error is None
    assert [a for a, _, _ in await store.pending_releases()] == ["held"]

    on_time = scheduler(lambda: FIXED + timedelta(seconds=1))
    await on_time.sync_releases()
    assert on_time.last_error is None
    assert await store.pending_releases() == []
    served = on_time.regenerator.cache.get("global", "feed.json")
    assert served is not None and b"Headline of held" in served.body
    await early.stop()
    await on_time.stop()


async def test_pushes_are_stamped_and_counted_by_the_pusher_clock(
    store: Store, settings: Settings
) -> None:
    stamps: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        await request.read()
        stamps.append(request.headers["X-Syndicate-Timestamp"])
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/inbox", inbox)
    receiver = TestServer(app, host="127.0.0.1")
    await receiver.start_server()
    _, digest = new_token()
    await store.add_token(
        name="agency", role="partner", token_hash=digest, sections=("global",),
        now=FIXED - timedelta(days=1),
    )  # fmt: skip
    url = str(receiver.make_url("/inbox"))
    destination = await subscribe(store, "agency", url, "ninjs", (), now=FIXED)
    pusher = Pusher(
        settings.with_overrides(push_timeout=5.0), store, leading=lambda: True, clock=lambda: FIXED
    )
    await pusher.start()
    try:
        await store.put(validated_record("pushed", settings), now=FIXED)
        deadline = time.monotonic() + 20
        while not stamps:
            assert time.monotonic() < deadline, "timed out waiting for the push"
            await asyncio.sleep(0.05)
        assert stamps == [str(int(FIXED.timestamp()))]

        async def delivered() -> datetime | None:
            (found,) = [d for d in await store.destinations() if d.id == destination.id]
            return found.last_delivered

        while (when := await delivered()) is None:
            assert time.monotonic() < deadline, "timed out waiting for the delivery's record"
            await asyncio.sleep(0.05)
        assert when == FIXED
        assert destination.created == FIXED
    finally:
        await pusher.stop()
        await receiver.close()


def _wall_clock_reads(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
        ):
            name = f"{node.func.value.id}.{node.func.attr}"
            if name in WALL_CLOCK_READS:
                yield node.lineno, name


def test_only_the_clock_and_the_outermost_callers_read_the_wall_clock() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in MAY_READ_THE_CLOCK or relative.as_posix() in MAY_READ_THE_CLOCK:
            continue
        for line, name in _wall_clock_reads(path):
            if (relative.as_posix(), name) != FILE_AGE:
                found.append(f"{relative}:{line}: {name}()")
    assert found == [], "read the time from the clock you are given:\n" + "\n".join(found)


def test_the_scan_finds_a_wall_clock_read(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from datetime import UTC, datetime\nimport time\n"
        "a = datetime.now(UTC)\nb = time.time()\nc = time.monotonic()\n"
    )
    assert list(_wall_clock_reads(sample)) == [(3, "datetime.now"), (4, "time.time")]
