"""The delivery rule on its own, one row of its table at a time (pure: no store, no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syndicate.core.delivery import Audience, current, notices
from syndicate.core.model import PUBLISHED, WITHDRAWN, Article, Change, ChangeKind, Status

T0 = datetime(2030, 1, 1, tzinfo=UTC)
PLAIN = Audience(frozenset({"global"}))
EARLY = Audience(frozenset({"global"}), embargoed=True)


class History:
    """Builds an article's change log the way the store writes it."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.version = 0

    def save(self, headline: str, sections: tuple[str, ...] = ("global",), *, held: bool = False,
             kind: ChangeKind = "updated") -> History:  # fmt: skip
        self.version += 1
        self._add(kind, headline, sections, PUBLISHED, held)
        return self

    def release(self) -> History:
        last = self.changes[-1].article  # the same version, now out
        self.changes.append(Change(len(self.changes) + 1, "released", last, False))
        return self

    def withdraw(self) -> History:
        self.version += 1
        last = self.changes[-1].article
        self._add("withdrawn", last.headline, last.sections, WITHDRAWN, False)
        return self

    def _add(self, kind: ChangeKind, headline: str, sections: tuple[str, ...], status: Status,
             held: bool) -> None:  # fmt: skip
        record = {
            "id": "s",
            "headline": headline,
            "body_html": "<p>x</p>",
            "language": "en",
            "sections": list(sections),
            "published": T0.isoformat(),
            "canonical_url": "https://news.example/s",
            **({"embargo_until": (T0 + timedelta(hours=1)).isoformat()} if held else {}),
        }
        article = Article.from_record(
            record,
            version=self.version,
            status=status,
            version_created=T0,  # type: ignore[arg-type]
        )
        self.changes.append(Change(len(self.changes) + 1, kind, article, held))


def told(history: History, audience: Audience) -> list[tuple[str, int, str]]:
    return [
        (n.pubstatus, n.article.version, n.article.headline)
        for n in notices(history.changes, audience)
    ]


def test_saved_and_updated_in_its_sections_is_usable_each_version() -> None:
    h = History().save("one").save("two")
    assert told(h, PLAIN) == [("usable", 1, "one"), ("usable", 2, "two")]


def test_moved_out_is_canceled_with_what_it_had_and_the_kill_is_not_repeated() -> None:
    h = History().save("world").save("india only", ("india",)).withdraw()
    assert told(h, PLAIN) == [("usable", 1, "world"), ("canceled", 2, "world")]
    assert told(h, Audience(frozenset({"india"}))) == [
        ("usable", 1, "india only"), ("canceled", 2, "india only")
    ]  # fmt: skip


def test_held_again_after_release_is_withheld_then_usable_at_release() -> None:
    h = History().save("public").save("held update", held=True).release()
    assert told(h, PLAIN) == [
        ("usable", 1, "public"), ("withheld", 2, "public"), ("usable", 3, "held update")
    ]  # fmt: skip
    # The embargo partner has the held update early, and the release is no news to it.
    assert told(h, EARLY) == [("usable", 1, "public"), ("usable", 2, "held update")]


def test_withdrawn_while_held_reaches_only_partners_that_had_it() -> None:
    h = History().save("secret", held=True).withdraw()
    assert told(h, PLAIN) == []
    assert told(h, EARLY) == [("usable", 1, "secret"), ("canceled", 2, "secret")]
    assert notices(h.changes, EARLY)[0].held


def test_a_partner_of_other_sections_hears_nothing() -> None:
    h = History().save("a").save("b").withdraw()
    assert told(h, Audience(frozenset({"sport"}))) == []


def test_the_item_view_counts_a_due_release_before_the_timer_writes_it() -> None:
    h = History().save("at the instant", held=True)
    release = h.changes[-1].article.release_at
    assert current(h.changes, PLAIN, release - timedelta(microseconds=1)) is None
    shown = current(h.changes, PLAIN, release)
    assert shown is not None and (shown.pubstatus, shown.article.version) == ("usable", 1)
    # ...and it is the very notice the timer's `released` change brings to the pulls.
    assert notices(h.release().changes, PLAIN)[-1].article == shown.article
