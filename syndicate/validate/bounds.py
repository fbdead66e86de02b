"""Bounds first: a record cut to the schema's sizes and counts before anything whose cost
grows faster than the input runs on it (jsonschema's messages, uniqueness, the rules).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from syndicate.validate.schemas import ARTICLE_SCHEMA, load_schema, resolve

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
        node = {**resolve(node["$ref"], root), **{k: v for k, v in node.items() if k != "$ref"}}
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
