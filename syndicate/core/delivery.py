"""What a partner may see of an article: one pure rule over the article's change history.

Section pulls (NewsML-G2 and ninjs), item endpoints and pushes all ask `notices`, so they
cannot disagree. The rule reads only the history, the partner's sections and its embargo
privilege. Time enters through the history: the timer writes a `released` change when an
embargo ends. Judging old changes again by today's clock would make an earlier pull and a
later one tell different stories, and a cursor could skip a release.

A partner's view of an article at each change is one of: nothing, usable (a version),
withheld (held again after it had it) or canceled (withdrawn, or moved out of its sections).
A notice is sent when the view changes, and only then:

| what happened                                   | who is told                | notice    |
|-------------------------------------------------|----------------------------|-----------|
| saved or updated in its sections, released      | those entitled             | usable    |
| moved out of its sections                       | those who had a version    | canceled  |
| withdrawn                                       | those who had a version    | canceled  |
| held again after release (embargo moved later)  | plain partners who had it  | withheld  |
| withdrawn while held                            | embargo partners who had it | canceled |

A withheld or canceled notice carries the last version the partner had, never newer text.
Versions are numbered per partner (1, 2, 3… one per notice), so a partner cannot count the
changes it is not shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from syndicate.core.model import PUBLISHED, WITHDRAWN, Article, Change, Notice, PubStatus, Token


@dataclass(frozen=True, slots=True)
class Audience:
    """A partner as the rule sees it: its licensed sections and its embargo privilege."""

    sections: frozenset[str]
    embargoed: bool = False

    @classmethod
    def of(cls, token: Token) -> Audience:
        return cls(frozenset(token.sections), token.embargoed)


def _visible(change: Change, audience: Audience) -> bool:
    article = change.article
    if article.status != PUBLISHED or audience.sections.isdisjoint(article.sections):
        return False
    return audience.embargoed or not change.held


def _still_theirs_but_held(change: Change, audience: Audience) -> bool:
    article = change.article
    return (
        change.held
        and article.status == PUBLISHED
        and not audience.sections.isdisjoint(article.sections)
    )


def notices(history: Iterable[Change], audience: Audience) -> list[Notice]:
    """Every notice `audience` gets about one article, oldest first (history in seq order)."""
    told: list[Notice] = []
    had: Article | None = None  # the last version the partner received as usable
    view: PubStatus | None = None

    def tell(change: Change, status: PubStatus, article: Article, held: bool) -> None:
        numbered = dataclasses.replace(article, version=len(told) + 1)
        told.append(Notice(change.seq, status, numbered, held))

    for change in history:
        article = change.article
        if _visible(change, audience):
            # A release of the version an embargo partner already holds is no news to it.
            if view != "usable" or had is None or had.version != article.version:
                tell(change, "usable", article, change.held)
            had, view = article, "usable"
        elif had is not None and view in ("usable", "withheld"):
            if _still_theirs_but_held(change, audience):
                if view != "withheld":
                    tell(change, "withheld", _as_of(had, change), False)
                view = "withheld"
            else:
                killed = _as_of(had, change)
                if article.status == WITHDRAWN:
                    killed = dataclasses.replace(killed, status=WITHDRAWN)
                tell(change, "canceled", killed, False)
                view = "canceled"
    return told


def _as_of(had: Article, change: Change) -> Article:
    """The text the partner had, stamped with when its view of it changed."""
    return dataclasses.replace(had, version_created=change.article.version_created)


def notices_by_seq(
    histories: Mapping[str, Sequence[Change]], audience: Audience
) -> dict[int, Notice]:
    """The notices of many articles, by the seq of the change that caused each."""
    return {n.seq: n for history in histories.values() for n in notices(history, audience)}


def current(history: Sequence[Change], audience: Audience, now: datetime) -> Notice | None:
    """What the partner may see of the article at `now`: its last notice, or None.

    A held version whose time has come counts as released even if the timer has not yet
    written it down: the item answers at the embargo instant, with exactly the notice the
    `released` change will bring to the pulls a moment later.
    """
    told = notices(_with_due_release(history, now), audience)
    return told[-1] if told else None


def _with_due_release(history: Sequence[Change], now: datetime) -> Sequence[Change]:
    last = history[-1] if history else None
    if last is None or not last.held or last.article.status != PUBLISHED:
        return history
    if last.article.release_at > now:
        return history
    return [*history, dataclasses.replace(last, kind="released", held=False)]
