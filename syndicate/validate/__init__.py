"""Validation of article records: the JSON Schema in `schemas/`, then what a schema cannot say.

- `record`: the order of the checks and the normalised record (`validate_record`).
- `schemas`: the schema files and the jsonschema validator, the one source of truth.
- `fast`: a yes/no verdict equal to jsonschema's, fast enough for every valid record.
- `bounds`: sizes and counts first, so a huge record costs what a valid one does.
- `messages`: jsonschema's findings in the newsroom's words, by JSON pointer.
- `rules`: what no schema can say (real instants, BCP 47, declared sections, XML text).
- `sanitise`: the body's HTML allow-list and its bounds.
"""

from __future__ import annotations

from syndicate.validate.bounds import bounded
from syndicate.validate.fast import fast_check, json_key
from syndicate.validate.messages import pointer
from syndicate.validate.record import (
    MAX_HEADLINE_CHARS,
    MAX_SECTIONS,
    check_record,
    is_article_id,
    validate_record,
)
from syndicate.validate.rules import MAX_BODY_BYTES, TIME_FIELDS
from syndicate.validate.sanitise import (
    MAX_BODY_DEPTH,
    MAX_BODY_REF_COST,
    MAX_BODY_TAGS,
    markup_depth,
    sanitise_html,
)
from syndicate.validate.schemas import (
    ARTICLE_SCHEMA,
    SCHEMA_DIR,
    ecma_pattern,
    load_schema,
    schema_bytes,
    validator,
)

__all__ = [
    "ARTICLE_SCHEMA",
    "MAX_BODY_BYTES",
    "MAX_BODY_DEPTH",
    "MAX_BODY_REF_COST",
    "MAX_BODY_TAGS",
    "MAX_HEADLINE_CHARS",
    "MAX_SECTIONS",
    "SCHEMA_DIR",
    "TIME_FIELDS",
    "bounded",
    "check_record",
    "ecma_pattern",
    "fast_check",
    "is_article_id",
    "json_key",
    "load_schema",
    "markup_depth",
    "pointer",
    "sanitise_html",
    "schema_bytes",
    "validate_record",
    "validator",
]
