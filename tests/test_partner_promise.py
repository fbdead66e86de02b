"""The partner promise, tested as sequences: a model-based test of what each partner is told.

Random sequences of saves (create, update, move between sections, embargo set, moved earlier
or later, lifted), withdrawals, the clock moving on (with the timer's releases) and partner
pulls and item fetches, by several partners with and without embargo privilege, run against
the real HTTP endpoints on each store. After every step the service is compared with a small
reference model of the delivery table (`syndicate.core.delivery` is not consulted):

- nothing held or unlicensed is ever delivered;
- each partner gets exactly the notices of the table, one per transition, numbered 1, 2, 3…
  (so a partner that had a version gets exactly one kill notice when it is withdrawn);
- a pull after the last change is empty, and the cursor does not move;
- the item endpoints agree with the pulls (404 for what a partner never had).

`SYNDICATE_PROMISE_EXAMPLES` sets how many sequences run (default 150 on SQLite; a quarter
of that on PostgreSQL); `SYNDICATE_PROMISE_STEPS` their length (default 30).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from syndicate.core.config import Settings
from syndicate.core.errors import NotFound
from syndicate.store.base import Store
from syndicate.store.postgres import PostgresStore
from syndicate.store.sqlite import SQLiteStore
from tests.helpers.clients import Client, start_app
from tests.helpers.iptc import parse_xml
from tests.helpers.partners import Pulled, item_path, news_items, ninjs_items, pull
from tests.helpers.records import validated_record
from tests.helpers.settings import build_settings
from tests.helpers.stores import BACKENDS, create_pg_schema, drop_pg_schema
from tests.helpers.tokens import partner_header

EXAMPLES = int(os.environ.get("SYNDICATE_PROMISE_EXAMPLES", "150"))
STEPS = int(os.environ.get("SYNDICATE_PROMISE_STEPS", "30"))
START = datetime(2030, 1, 1, tzinfo=UTC)
IDS = ("a", "b", "c")
SECTION_CHOICES = (("global",), ("india",), ("sport",), ("global", "india"), ("india", "sport"))
# Seconds from the clock's now: lifted (already past), soon, later, much later.
EMBARGOES = (None, -5, 20, 60, 200)


@dataclass(frozen=True)
class Partner:
    name: str
    sections: frozenset[str]
    embargoed: bool


PARTNERS = (
    Partner("plain-global", frozenset({"global"}), False),
    Partner("plain-india-sport", frozenset({"india", "sport"}), False),
    Partner("early-global-india", frozenset({"global", "india"}), True),
)


@dataclass
class View:
    """The reference model's idea of one partner's view of one article."""

    state: str | None = None  # usable, withheld, canceled
    had_headline: str = ""
    had_version: int = 0
    told: list[tuple[str, str]] = field(default_factory=list)  # (pubstatus, headline)


class Reference:
    """The delivery table, applied to each change as it happens."""

    def __init__(self) -> None:
        self.views = {(p.name, i): View() for p in PARTNERS for i in IDS}

    def change(
        self, article_id: str, *, published: bool, sections: set[str], held: bool,
        version: int, headline: str,
    ) -> None:  # fmt: skip
        for p in PARTNERS:
            view = self.views[(p.name, article_id)]
            licensed = published and bool(p.sections & sections)
            if licensed and (p.embargoed or not held):
                # saved, updated or released in its sections: usable (once per version)
                if view.state != "usable" or view.had_version != version:
                    view.told.append(("usable", headline))
                view.state, view.had_headline, view.had_version = "usable", headline, version
            elif view.state in ("usable", "withheld"):
                if licensed and held:  # held again after release: withheld
                    if view.state != "withheld":
                        view.told.append(("withheld", view.had_headline))
                    view.state = "withheld"
                else:  # withdrawn, or moved out of its sections: canceled
                    view.told.append(("canceled", view.had_headline))
                    view.state = "canceled"


@dataclass
class Stored:
    """What the test knows it stored (to predict the timer's releases)."""

    version: int
    published: bool
    sections: set[str]
    headline: str
    release: datetime | None  # pending release time, None once public or withdrawn


def _settings() -> Settings:
    return build_settings(partner_page_size=3)


class PartnerPromise(RuleBasedStateMachine):
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = START
        self.settings = _settings()
        self.reference = Reference()
        self.stored: dict[str, Stored] = {}
        self.public_headlines: set[str] = set()  # versions the public has been allowed to see
        self.sections_of: dict[str, set[str]] = {}  # headline -> its version's sections
        self.saves = 0
        self.headers: dict[str, dict[str, str]] = {}
        self.cursors: dict[tuple[str, str], str | None] = {}
        self.received: dict[tuple[str, str], dict[int, tuple[str, str]]] = {}
        self.tmp = tempfile.mkdtemp(prefix="promise-")
        self.pg: tuple[str, str] | None = None
        self.client: Client | None = None
        self.store: Store | None = None

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    @initialize()
    def start(self) -> None:
        if self.backend == "sqlite":
            store: Store = SQLiteStore(f"sqlite:///{self.tmp}/store.db")
        else:
            self.pg = self.run(create_pg_schema())
            store = PostgresStore(self.pg[0], schema=self.pg[1])
        self.store = store
        self.run(store.open())
        self.client = self.run(
            start_app(self.settings, store=store, run_scheduler=False, clock=lambda: self.clock)
        )
        for p in PARTNERS:
            self.headers[p.name] = self.run(
                partner_header(store, tuple(sorted(p.sections)), embargoed=p.embargoed)
            )
            for s in p.sections:
                self.cursors[(p.name, s)] = None
            for i in IDS:
                self.received[(p.name, i)] = {}

    def teardown(self) -> None:
        if self.client is not None:
            self.run(self.client.close())
        if self.store is not None:
            self.run(self.store.close())
        if self.pg is not None:
            self.run(drop_pg_schema(*self.pg))
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the newsroom --------------------------------------------------------------------------

    @rule(
        article_id=st.sampled_from(IDS),
        sections=st.sampled_from(SECTION_CHOICES),
        embargo=st.sampled_from(EMBARGOES),
    )
    def save(self, article_id: str, sections: tuple[str, ...], embargo: int | None) -> None:
        assert self.store is not None
        self.saves += 1
        headline = f"{article_id} headline {self.saves}"
        fields: dict[str, Any] = {"sections": list(sections), "headline": headline}
        release = None
        if embargo is not None:
            until = self.clock + timedelta(seconds=embargo)
            fields["embargo_until"] = until.isoformat()
            release = until if until > self.clock else None
        result = self.run(
            self.store.put(validated_record(article_id, self.settings, **fields), now=self.clock)
        )
        assert result.outcome in ("created", "updated")
        version = result.article.version
        held = release is not None
        self.stored[article_id] = Stored(version, True, set(sections), headline, release)
        self.sections_of[headline] = set(sections)
        if not held:
            self.public_headlines.add(headline)
        self.reference.change(
            article_id, published=True, sections=set(sections), held=held, version=version,
            headline=headline,
        )  # fmt: skip

    @rule(article_id=st.sampled_from(IDS))
    def withdraw(self, article_id: str) -> None:
        assert self.store is not None
        known = self.stored.get(article_id)
        if known is None:
            with pytest.raises(NotFound):
                self.run(self.store.withdraw(article_id, now=self.clock))
            return
        self.run(self.store.withdraw(article_id, now=self.clock))
        if not known.published:
            return  # withdrawing twice changes nothing
        known.published, known.release, known.version = False, None, known.version + 1
        self.reference.change(
            article_id, published=False, sections=known.sections, held=False,
            version=known.version, headline=known.headline,
        )  # fmt: skip

    @rule(seconds=st.sampled_from((1, 15, 45, 120)))
    def time_passes(self, seconds: int) -> None:
        """The clock moves on and the timer releases what is due, as the scheduler would."""
        assert self.store is not None
        self.clock += timedelta(seconds=seconds)
        released = self.run(self.store.release_due(now=self.clock))
        due = sorted(
            i for i, s in self.stored.items() if s.release is not None and s.release <= self.clock
        )
        assert sorted(a.id for a in released) == due
        for article_id in due:
            known = self.stored[article_id]
            known.release = None
            self.public_headlines.add(known.headline)
            self.reference.change(
                article_id, published=True, sections=known.sections, held=False,
                version=known.version, headline=known.headline,
            )  # fmt: skip

    # -- the partners --------------------------------------------------------------------------

    @rule(partner=st.sampled_from(PARTNERS), fmt=st.sampled_from(("newsml", "ninjs")))
    def pulls(self, partner: Partner, fmt: str) -> None:
        """The partner pulls each of its sections to the end; every notice is as the table says."""
        assert self.client is not None
        headers = self.headers[partner.name]
        for section in sorted(partner.sections):
            since = self.cursors[(partner.name, section)]
            while True:
                page = self.run(pull(self.client, fmt, section, headers, since))
                if page.status == 204:
                    assert since is None or page.cursor == since, "an empty pull moved the cursor"
                    break
                assert page.status == 200 and page.cursor != since
                for item in page.items:
                    self._receive(partner, item)
                since = page.cursor
            self.cursors[(partner.name, section)] = since
            # A pull after the last change is empty.
            assert self.run(pull(self.client, fmt, section, headers, since)).status == 204
        for article_id in IDS:
            got = self.received[(partner.name, article_id)]
            told = self.reference.views[(partner.name, article_id)].told
            assert sorted(got) == list(range(1, len(told) + 1)), (partner.name, article_id)
            assert [got[n] for n in sorted(got)] == told, (partner.name, article_id)

    def _receive(self, partner: Partner, item: Pulled) -> None:
        # Nothing held or unlicensed, ever: a usable text was public (or the partner may see
        # it early) and belongs to a section the partner pays for.
        if item.status == "usable":
            assert partner.embargoed or item.headline in self.public_headlines, item
            assert self.sections_of[item.headline] & partner.sections, item
        key = (partner.name, item.id)
        seen = self.received[key].get(item.version)
        # The same notice may come through two of its sections; never two different ones.
        assert seen is None or seen == (item.status, item.headline), (item, seen)
        self.received[key][item.version] = (item.status, item.headline)

    @rule(
        partner=st.sampled_from(PARTNERS),
        article_id=st.sampled_from(IDS),
        fmt=st.sampled_from(("newsml", "ninjs")),
    )
    def item(self, partner: Partner, article_id: str, fmt: str) -> None:
        """The item endpoint shows the partner's newest notice, or 404 if it never had one."""
        assert self.client is not None
        told = self.reference.views[(partner.name, article_id)].told
        path = item_path(fmt, article_id)
        resp = self.run(self.client.get(path, headers=self.headers[partner.name]))
        body = self.run(resp.read())
        if not told:
            assert resp.status == 404, body
            return
        assert resp.status == 200, body
        if fmt == "newsml":
            (shown,) = news_items(parse_xml(body))
        else:
            (shown,) = ninjs_items({"items": [json.loads(body)]})
        assert (shown.version, shown.status, shown.headline) == (len(told), *told[-1])

    @invariant()
    def nobody_was_told_more_than_the_table(self) -> None:
        for (name, article_id), got in self.received.items():
            assert len(got) <= len(self.reference.views[(name, article_id)].told)


class PartnerPromiseOnPostgres(PartnerPromise):
    backend = "postgres"


@pytest.mark.slow
@pytest.mark.timeout(900)  # shrinking a failure takes longer than a pass
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_partner_promise_holds_over_random_sequences(backend: str) -> None:
    machine = PartnerPromise if backend == "sqlite" else PartnerPromiseOnPostgres
    if backend == "postgres":  # skips (or fails, when PostgreSQL is required) with the reason
        asyncio.run(drop_pg_schema(*asyncio.run(create_pg_schema())))
    examples = EXAMPLES if backend == "sqlite" else max(1, EXAMPLES // 4)
    run = settings(
        max_examples=examples,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        derandomize=os.environ.get("SYNDICATE_PROMISE_RANDOM") != "1",
    )
    machine.TestCase.settings = run
    machine.TestCase().runTest()
