"""Articles, sections and the feed context cross to render workers by a quick pickle that
keeps every field but the stored record, and gives back equal values."""

from __future__ import annotations

import copy
import pickle
from dataclasses import dataclass, field

import pytest

from syndicate.core.quickpickle import quick_pickle
from syndicate.pipeline.archive import as_feed_section
from syndicate.render.documents import ArchiveLinks
from tests.helpers.feeds import articles, context, hindi_section


def test_an_article_comes_back_equal_without_its_record() -> None:
    for article in articles():
        assert article.record  # the stored record is there before...
        back = pickle.loads(pickle.dumps(article))
        assert back == article and hash(back) == hash(article)
        assert back.record == {}  # ...and left behind: feeds never read it
        assert (back.authors, back.image, back.related) == (
            article.authors,
            article.image,
            article.related,
        )


def test_sections_and_the_context_come_back_equal() -> None:
    section = hindi_section()
    linked = as_feed_section(section, archive=ArchiveLinks(prev=3))
    for value in (section, linked, context(), context(websub_hub=None)):
        back = pickle.loads(pickle.dumps(value))
        assert back == value and type(back) is type(value)


def test_a_field_left_out_needs_a_default() -> None:
    @dataclass(frozen=True, slots=True)
    class Plain:
        kept: int
        extra: dict[str, int] = field(default_factory=dict)
        label: str = "x"

    quick_pickle(leave_out=["extra", "label"])(Plain)
    back = copy.copy(Plain(1, {"a": 1}, "y"))  # the same state functions as a pickle
    assert (back.kept, back.extra, back.label) == (1, {}, "x")

    @dataclass(frozen=True, slots=True)
    class NoDefault:
        needed: int

    with pytest.raises(TypeError, match="needed"):
        quick_pickle(leave_out=["needed"])(NoDefault)
