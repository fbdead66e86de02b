"""The fast verdict and jsonschema agree both ways on generated records (hypothesis): it never
accepts what jsonschema rejects, and never rejects what jsonschema accepts.

Three sources of records: the valid fixtures with fields replaced by values built from the
schema (boundary lengths and counts, duplicates, trailing newlines, dots, wrong types,
unknown fields); records generated from the schema alone, valid by construction, so the
"never rejects" side sees every optional field at any depth; and valid records mutated one
field at a time at any depth (every field of every fixture, and at random), so the "never
accepts" side meets each keyword of the schema. Bounded: a few hundred examples each.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.validate import bounded, ecma_pattern, fast_check, json_key, load_schema, validator
from tests.helpers.paths import ARTICLE_FIXTURES

VALID = [
    json.loads(p.read_text(encoding="utf-8"))
    for p in sorted((ARTICLE_FIXTURES / "valid").glob("*.json"))
]
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


def bounded_run(examples: int) -> settings:
    """A few hundred examples at most, no deadline per example (records can be large)."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


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


@bounded_run(400)
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


# -- records valid by construction, from the schema alone ----------------------------------------


def valid_values(node: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values the schema accepts (a pattern generator may rarely miss; jsonschema decides)."""
    node = _resolve(node)
    kind = node.get("type")
    if "anyOf" in node:  # one of the options, each merged into the node it narrows
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        return st.one_of([valid_values(_narrowed(rest, option)) for option in node["anyOf"]])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if kind == "string":
        low, high = node.get("minLength", 0), node.get("maxLength", 60)
        pattern = node.get("pattern")
        if pattern is None:
            texts = st.text(min_size=low, max_size=min(high, 60))
            return texts | st.just("ह" * high) if high <= 5000 else texts
        matches = ecma_pattern(pattern).search
        strings = st.from_regex(pattern, fullmatch=pattern.startswith("^"))
        return strings.filter(lambda s: low <= len(s) <= high and matches(s) is not None)
    if kind == "integer":
        low, high = node.get("minimum", -(2**40)), node.get("maximum", 2**40)
        whole = st.integers(low, high)
        return whole | whole.map(float)  # JSON Schema: 2.0 is an integer
    if kind == "array":
        item = valid_values(node["items"])
        low, high = node.get("minItems", 0), node.get("maxItems", 10)
        unique = json_key if node.get("uniqueItems") else None
        lists = st.lists(item, min_size=low, max_size=min(high, 4), unique_by=unique)
        if high <= 20:  # exactly at the bound, where an off-by-one would show
            lists |= st.lists(item, min_size=high, max_size=high, unique_by=unique)
        return lists
    if kind == "object":
        props = node.get("properties", {})
        required = set(node.get("required", ()))
        return st.fixed_dictionaries(
            {k: valid_values(props[k]) for k in sorted(required)},
            optional={k: valid_values(v) for k, v in props.items() if k not in required},
        )
    raise AssertionError(f"the generator does not know {node}")


def _narrowed(node: Mapping[str, Any], option: Mapping[str, Any]) -> dict[str, Any]:
    """`node` with an `anyOf` option's required fields and property constraints added."""
    props = {k: dict(_resolve(v)) for k, v in node.get("properties", {}).items()}
    for name, extra in option.get("properties", {}).items():
        props[name] = {**props.get(name, {}), **extra}
    required = [*node.get("required", ()), *option.get("required", ())]
    return {**node, "properties": props, "required": required}


VALID_RECORDS = valid_values(ROOT)


@bounded_run(200)
@given(VALID_RECORDS)
def test_the_fast_verdict_accepts_the_records_the_schema_describes(record: Any) -> None:
    valid = validator().is_valid(record)
    assert fast_check()(record) == valid
    if valid:  # and the bounds, run first on every record, leave a valid one as it is
        cut, broken = bounded()(record)
        assert not broken and cut is record


def test_records_built_from_the_schema_are_valid() -> None:
    """Else the test above would mostly meet rejected records and prove little."""
    verdicts: list[bool] = []

    @settings(bounded_run(100), database=None)
    @given(VALID_RECORDS)
    def collect(record: Any) -> None:
        verdicts.append(validator().is_valid(record))

    collect()
    assert sum(verdicts) >= 0.9 * len(verdicts)


# -- valid records mutated one field at a time, at any depth -------------------------------------

Path = tuple[str | int, ...]
DROP = object()  # the mutation that removes the field


def paths(value: Any, here: Path = ()) -> Iterator[Path]:
    """Every place in a record, the record itself first."""
    yield here
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*here, index))


def node_at(path: Path) -> Mapping[str, Any]:
    """The schema of the value at `path` ({} under an unknown field: anything goes)."""
    node = _resolve(ROOT)
    for part in path:
        if isinstance(part, int):
            node = _resolve(node.get("items", {}))
        else:
            node = _resolve(node.get("properties", {}).get(part, {}))
    return node


def mutations(node: Mapping[str, Any], value: Any) -> list[Any]:
    """Replacements that break (or just bend) one keyword of `node` for `value`."""
    out: list[Any] = [DROP, None, True, 0, 1.5, "x", [], {}]
    if "enum" in node:
        out.append("other")
    if isinstance(value, str):
        out += ["", " ", ".", "..", "a\x00b", "\ud800", "ह", value + "\n", "\n" + value]
        if "maxLength" in node:
            out += ["x" * node["maxLength"], "x" * (node["maxLength"] + 1)]
    if node.get("type") == "integer":
        low, high = node.get("minimum"), node.get("maximum")
        out += [float(value) if isinstance(value, (int, float)) else 2.0, 2.5]
        out += [low - 1, float(low)] if low is not None else []
        out += [high + 1, high] if high is not None else []
    if isinstance(value, list):
        out += [[None], value[:-1]]
        if value:
            out += [[*value, value[0]], [*value, copy.deepcopy(value[-1])]]
        if "maxItems" in node and value:
            out.append([value[0]] * (node["maxItems"] + 1))
    if isinstance(value, dict):
        out += [{**value, "zz_unknown": 1}]
        out += [{k: v for k, v in value.items() if k != name} for name in value]
    return out


def mutate(record: dict[str, Any], path: Path, replacement: Any) -> Any:
    if not path:
        return copy.deepcopy(replacement) if replacement is not DROP else {}
    out = copy.deepcopy(record)
    parent: Any = out
    for part in path[:-1]:
        parent = parent[part]
    if replacement is DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(replacement)
    return out


def test_every_field_of_every_fixture_mutated_gets_the_same_verdict_from_both() -> None:
    disagree: list[str] = []
    verdicts: list[bool] = []
    for base in VALID:
        for path in paths(base):
            original = _at(base, path)
            for replacement in mutations(node_at(path), original):
                record = mutate(base, path, replacement)
                valid = validator().is_valid(record)
                verdicts.append(valid)
                if fast_check()(record) != valid:
                    disagree.append(f"{base['id']} {list(path)} <- {replacement!r:.60}: {valid}")
    assert disagree == []
    # Both sides really met: most mutants are rejected, and some are still valid.
    assert verdicts.count(False) > 1000 and verdicts.count(True) > 50


def _at(record: Any, path: Path) -> Any:
    for part in path:
        record = record[part]
    return record


@st.composite
def mutants(draw: st.DrawFn) -> Any:
    base = draw(st.one_of(st.sampled_from(VALID), VALID_RECORDS))
    path = draw(st.sampled_from(list(paths(base))))
    node, original = node_at(path), _at(base, path)
    replacement = draw(
        st.one_of(st.sampled_from(mutations(node, original)), values(node, [original]))
    )
    return mutate(base, path, replacement)


@bounded_run(300)
@given(mutants())
def test_one_field_mutated_at_random_gets_the_same_verdict_from_both(record: Any) -> None:
    assert fast_check()(record) == validator().is_valid(record)
