"""The fast verdict and jsonschema agree both ways on generated records (hypothesis).

Records start from the valid fixtures and have fields replaced by values built from the
schema itself: boundary lengths and counts, duplicates, trailing newlines, dots, wrong types,
unknown fields. Bounded: a few hundred examples, no deadline per example.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.schema import bounded, fast_check, load_schema, validator

FIXTURES = Path(__file__).parent / "fixtures" / "articles" / "valid"
VALID = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.json"))]
ROOT = load_schema()
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.just([]),
    st.just({}),
)
# Strings that have slipped past patterns or lengths before.
EDGES = ["", " ", "\n", ".", "..", "abc\n", "a\x00b", "\ud800", "ह", "x" * 129]


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        target: Any = ROOT
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _seen(name: str) -> list[Any]:
    return [r[name] for r in VALID if name in r]


def values(node: Mapping[str, Any], seeds: list[Any]) -> st.SearchStrategy[Any]:
    node = _resolve(node)
    kind = node.get("type")
    options: list[st.SearchStrategy[Any]] = [JUNK]
    if seeds:
        options.append(st.sampled_from(seeds))
    if "enum" in node:
        options.append(st.sampled_from([*node["enum"], "other"]))
    if kind == "string":
        strings = [s for s in seeds if isinstance(s, str)]
        options.append(st.sampled_from(EDGES))
        options.append(st.text(max_size=12))
        if strings:
            options.append(st.sampled_from([s + "\n" for s in strings]))
        limit = node.get("maxLength")
        if limit is not None and limit <= 5000:
            options.append(st.sampled_from(["x" * limit, "x" * (limit + 1)]))
        if "pattern" in node and "(?" not in node["pattern"]:
            options.append(st.from_regex(node["pattern"], fullmatch=True))
    elif kind == "integer":
        options.append(st.integers(-2, 12))
        options.append(st.integers(-2, 12).map(float))
    elif kind == "array":
        item = values(node["items"], [x for s in seeds if isinstance(s, list) for x in s])
        top = node.get("maxItems", 5)
        lists = st.lists(item, max_size=min(top + 1, 25))
        options.append(lists)
        options.append(lists.filter(bool).map(lambda xs: [*xs, xs[0]]))  # a duplicate
        options.append(st.integers(top, top + 1).flatmap(lambda n: st.lists(item, min_size=n)))
    elif kind == "object":
        options.append(objects(node, [s for s in seeds if isinstance(s, dict)]))
    return st.one_of(options)


def objects(node: Mapping[str, Any], seeds: list[dict[str, Any]]) -> st.SearchStrategy[Any]:
    props = node.get("properties", {})
    fields = {
        name: values(sub, [s[name] for s in seeds if name in s]) for name, sub in props.items()
    }
    optional = st.fixed_dictionaries({}, optional={**fields, "zz_unknown": JUNK})
    if not seeds:
        return optional
    return st.tuples(st.sampled_from(seeds), optional).map(lambda pair: {**pair[0], **pair[1]})


FIELD = st.sampled_from([*ROOT["properties"], "zz_unknown"]).flatmap(
    lambda name: st.tuples(st.just(name), values(ROOT["properties"].get(name, {}), _seen(name)))
)
RECORDS = st.tuples(
    st.sampled_from(VALID),
    st.lists(FIELD, max_size=3),
    st.lists(st.sampled_from(sorted(ROOT["required"])), max_size=1),
).map(lambda t: _build(*t))
# Pattern-checked fields a trailing newline used to slip through (Python's `$`).
ANCHORED = ("id", "language", "published", "updated", "embargo_until", "canonical_url")


def _build(base: dict[str, Any], changes: list[tuple[str, Any]], drop: list[str]) -> Any:
    record = dict(base)
    record.update(changes)
    for name in drop:
        record.pop(name, None)
    return record


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(RECORDS)
def test_fast_verdict_equals_jsonschema(record: Any) -> None:
    assert fast_check()(record) == validator().is_valid(record)
    cut, broken = bounded()(record)
    if not broken:
        assert fast_check()(cut) == fast_check()(record)
    if validator().is_valid(record):
        assert not broken and cut is record
        assert not any(str(record.get(name, "")).endswith("\n") for name in ANCHORED)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(VALID), st.sampled_from([*ROOT["properties"]]), JUNK)
def test_fast_verdict_equals_jsonschema_on_wrong_types(base: Any, name: str, junk: Any) -> None:
    record = {**base, name: junk}
    assert fast_check()(record) == validator().is_valid(record)


def test_the_generator_makes_both_verdicts() -> None:
    found: set[bool] = set()

    @settings(max_examples=200, deadline=None, database=None)
    @given(RECORDS)
    def collect(record: Any) -> None:
        found.add(validator().is_valid(record))

    collect()
    assert found == {True, False}
