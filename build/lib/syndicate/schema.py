"""The JSON Schemas in `schemas/`: loading them, the cached jsonschema validator, a fast verdict.

The fast verdict interprets the small keyword subset our schemas use; it only says yes or no.
Errors always come from jsonschema, so the schema file stays the one source of truth.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

# The single copy lives at the top of the repository (DESIGN.md: `schemas/`);
# `syndicate/schemas` links to it, so a built wheel carries the files inside the package.
SCHEMA_DIR = resources.files("syndicate") / "schemas"
ARTICLE_SCHEMA = "article.schema.json"

Check = Callable[[Any], bool]

# Keywords that never change a verdict.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "title", "description", "format", "readOnly", "examples"}
)
_SUPPORTED = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "enum",
        "$ref",
        "anyOf",
    }
)


@functools.cache
def load_schema(name: str = ARTICLE_SCHEMA) -> Mapping[str, Any]:
    """A schema from `schemas/`, parsed once and checked against its meta-schema."""
    schema: dict[str, Any] = json.loads(schema_bytes(name))
    Draft202012Validator.check_schema(schema)
    return schema


def schema_bytes(name: str) -> bytes:
    """A file of `schemas/` as shipped (the OpenAPI document too), for loading or serving."""
    return SCHEMA_DIR.joinpath(name).read_bytes()


def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """A schema `pattern` compiled with ECMA-262's `$`: the end of the text, nothing else.

    Python's `$` also matches before a final newline, which let `abc\\n` through `^...$`.
    """
    out: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append("\\Z")
            continue
        out.append(char)
    return _compiled("".join(out))


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(Draft202012Validator, validators={"pattern": _pattern})


@functools.cache
def validator(name: str = ARTICLE_SCHEMA) -> Draft202012Validator:
    """The jsonschema validator for a schema, compiled once (formats are annotations only)."""
    return _Validator(load_schema(name))  # type: ignore[no-any-return]


@functools.cache
def fast_check(name: str = ARTICLE_SCHEMA) -> Check:
    """A predicate equivalent to `validator(name).is_valid`, about 15x faster.

    Raises `ValueError` at build time if the schema uses a keyword it does not understand,
    so that a schema edit cannot silently weaken validation.
    """
    root = load_schema(name)
    return _compile(root, root)


def _is_integer(value: Any) -> bool:
    # JSON Schema: 1.0 is an integer; booleans are not numbers.
    if type(value) is int:
        return True
    return type(value) is float and value.is_integer()


_TYPES: dict[str, Check] = {
    "string": lambda v: type(v) is str,
    "integer": _is_integer,
    "number": lambda v: type(v) in (int, float),
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
}


def _compile(node: Mapping[str, Any], root: Mapping[str, Any]) -> Check:
    unknown = set(node) - _ANNOTATIONS - _SUPPORTED
    if unknown:
        raise ValueError(f"schema: fast check does not understand {sorted(unknown)}")
    checks: list[Check] = []
    if "$ref" in node:
        checks.append(_compile(_resolve(node["$ref"], root), root))
    if "type" in node:
        checks.append(_TYPES[node["type"]])
    if "enum" in node:
        allowed = list(node["enum"])
        checks.append(lambda v: any(type(v) is type(a) and v == a for a in allowed))
    checks.extend(_string_checks(node))
    checks.extend(_number_checks(node))
    checks.extend(_array_checks(node, root))
    checks.extend(_object_checks(node, root))
    if "anyOf" in node:
        options = [_compile(option, root) for option in node["anyOf"]]
        checks.append(lambda v: any(option(v) for option in options))
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> bool:  # a plain loop: all(genexpr) costs ~30% more here
        for one in checks:  # noqa: SIM110
            if not one(value):
                return False
        return True

    return check


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"schema: fast check resolves local references only, not {ref}")
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return dict(target)


def _string_checks(node: Mapping[str, Any]) -> list[Check]:
    checks: list[Check] = []
    low = node.get("minLength")
    high = node.get("maxLength")
    if low is not None or high is not None:
        lo, hi = low or 0, high if high is not None else float("inf")
        checks.append(lambda v: type(v) is not str or lo <= len(v) <= hi)
    if "pattern" in node:
        search = ecma_pattern(node["pattern"]).search
        checks.append(lambda v: type(v) is not str or search(v) is not None)
    return checks


def _number_checks(node: Mapping[str, Any]) -> list[Check]:
    checks: list[Check] = []
    if "minimum" in node:
        low = node["minimum"]
        checks.append(lambda v: type(v) not in (int, float) or v >= low)
    if "maximum" in node:
        high = node["maximum"]
        checks.append(lambda v: type(v) not in (int, float) or v <= high)
    return checks


def _array_checks(node: Mapping[str, Any], root: Mapping[str, Any]) -> list[Check]:
    checks: list[Check] = []
    low = node.get("minItems")
    high = node.get("maxItems")
    if low is not None or high is not None:
        lo, hi = low or 0, high if high is not None else float("inf")
        checks.append(lambda v: type(v) is not list or lo <= len(v) <= hi)
    if node.get("uniqueItems"):
        checks.append(lambda v: type(v) is not list or _unique(v))
    if "items" in node:
        item = _compile(node["items"], root)
        checks.append(lambda v: type(v) is not list or all(item(x) for x in v))
    return checks


def _unique(items: list[Any]) -> bool:
    return len({json_key(x) for x in items}) == len(items)


def json_key(value: Any) -> Any:
    """A hashable stand-in equal for values JSON Schema calls equal (1 == 1.0, true != 1).

    Uniqueness by hashing is linear; jsonschema's pairwise comparison is quadratic.
    """
    if type(value) is bool or value is None:
        return ("b", value)
    if type(value) in (int, float):
        return ("n", value)
    if type(value) is str:
        return ("s", value)
    if type(value) is list:
        return ("l", tuple(json_key(x) for x in value))
    if type(value) is dict:
        return ("d", frozenset((k, json_key(v)) for k, v in value.items()))
    return ("o", id(value))


def _object_checks(node: Mapping[str, Any], root: Mapping[str, Any]) -> list[Check]:
    checks: list[Check] = []
    required = tuple(node.get("required", ()))
    if required:
        checks.append(lambda v: type(v) is not dict or all(k in v for k in required))
    if "properties" in node or "additionalProperties" in node:
        props = {k: _compile(sub, root) for k, sub in node.get("properties", {}).items()}
        extra = node.get("additionalProperties", True)
        if extra is not False and extra is not True:
            raise ValueError("schema: fast check supports additionalProperties true/false only")

        def check_properties(value: Any) -> bool:
            if type(value) is not dict:
                return True
            for key, item in value.items():
                sub = props.get(key)
                if sub is None:
                    if not extra:
                        return False
                elif not sub(item):
                    return False
            return True

        checks.append(check_properties)
    return checks


# --- bounds first: sizes and counts before anything that grows faster than the input ---------

Bound = tuple[tuple[str | int, ...], str, int, int]  # path parts, keyword, limit, actual size
Prune = Callable[[Any, tuple[str | int, ...], list[Bound]], Any]


@functools.cache
def bounded(name: str = ARTICLE_SCHEMA) -> Callable[[Any], tuple[Any, list[Bound]]]:
    """A function giving a record cut to the schema's bounds, and each bound it broke.

    Arrays longer than `maxItems` and strings longer than `maxLength` are cut to the limit,
    unknown fields' values and containers of the wrong type are emptied: what remains is at
    most as deep as the schema and a few thousand values, so the full check is cheap. The
    input is never modified; when nothing breaks a bound it is returned as it is.
    """
    root = load_schema(name)
    prune = _prune(root, root)

    def run(value: Any) -> tuple[Any, list[Bound]]:
        found: list[Bound] = []
        return prune(value, (), found), found

    return run


def _prune(node: Mapping[str, Any], root: Mapping[str, Any]) -> Prune:
    while "$ref" in node:
        node = {**_resolve(node["$ref"], root), **{k: v for k, v in node.items() if k != "$ref"}}
    kind = node.get("type")
    max_len = node.get("maxLength")
    max_items = node.get("maxItems")
    item = _prune(node["items"], root) if "items" in node else None
    props = {k: _prune(sub, root) for k, sub in node.get("properties", {}).items()}
    closed = node.get("additionalProperties", True) is False

    def prune(value: Any, path: tuple[str | int, ...], found: list[Bound]) -> Any:
        if type(value) is str:
            if max_len is not None and len(value) > max_len:
                found.append((path, "maxLength", max_len, len(value)))
                return value[:max_len]
            return value
        if type(value) is list:
            if kind not in (None, "array"):
                return []  # a type error, whatever it holds
            out = value
            if max_items is not None and len(value) > max_items:
                found.append((path, "maxItems", max_items, len(value)))
                out = value[:max_items]
            if item is not None:
                cut = [item(x, (*path, i), found) for i, x in enumerate(out)]
                if any(a is not b for a, b in zip(cut, out, strict=True)):
                    out = cut
            return out
        if type(value) is dict:
            if kind not in (None, "object"):
                return {}
            out_dict = value
            for key, sub in value.items():
                check = props.get(key)
                if check is not None:
                    new = check(sub, (*path, key), found)
                else:  # unknown: its name is the error, its content never matters
                    new = None if closed else sub
                if new is not sub:
                    if out_dict is value:
                        out_dict = dict(value)
                    out_dict[key] = new
            return out_dict
        return value

    return prune
