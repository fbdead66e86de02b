"""The JSON Schemas in `schemas/`: the files as shipped, parsed once, and the jsonschema
validator that is the one source of truth for what a record may look like.

Patterns are matched with ECMA-262's `$` (the end of the text), as the schemas say.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

# The single copy lives at the top of the repository (DESIGN.md: `schemas/`);
# `syndicate/schemas` links to it, so a built wheel carries the files inside the package.
SCHEMA_DIR = resources.files("syndicate") / "schemas"
ARTICLE_SCHEMA = "article.schema.json"


@functools.cache
def load_schema(name: str = ARTICLE_SCHEMA) -> Mapping[str, Any]:
    """A schema from `schemas/`, parsed once and checked against its meta-schema."""
    schema: dict[str, Any] = json.loads(schema_bytes(name))
    Draft202012Validator.check_schema(schema)
    return schema


def schema_bytes(name: str) -> bytes:
    """A file of `schemas/` as shipped (the OpenAPI document too), for loading or serving."""
    return SCHEMA_DIR.joinpath(name).read_bytes()


def resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    """The node a local `$ref` (`#/$defs/...`) points at."""
    if not ref.startswith("#/"):
        raise ValueError(f"schema: local references only, not {ref}")
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return dict(target)


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
