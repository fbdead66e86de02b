"""The OpenAPI document as tools read it: from the running service's URL, every reference
resolved, every operation found; then schemathesis against it (no 5xx, answers conform).

Bounded for `make test`: `SYNDICATE_SCHEMATHESIS_EXAMPLES` examples per operation (default 25).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers.processes import cli_token, serve
from tests.helpers.tokens import auth_header

EXAMPLES = int(os.environ.get("SYNDICATE_SCHEMATHESIS_EXAMPLES", "25"))
CONFIG = (
    '[syndicate]\nsite_title = "Schemathesis"\n'
    '[sections.global]\ntitle = "Global"\n[sections.india]\ntitle = "India"\n'
)


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: Any, value: Any) -> bytes:
    # Bulk bodies are lines of JSON; the document types them as a string, sent as it is.
    return value.encode("utf-8") if isinstance(value, str) else json.dumps(value).encode()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    tmp_path: Path = tmp_path_factory.mktemp("served")
    for port in serve(tmp_path, CONFIG):
        token = cli_token(tmp_path, "--role", "editor", "--name", "schemathesis")
        yield f"http://127.0.0.1:{port}", auth_header(token)


def _operations(base: str) -> tuple[Any, list[Any]]:
    schema = schemathesis.openapi.from_url(f"{base}/api/openapi.yaml")
    found, errors = [], []
    for result in schema.get_all_operations():
        try:
            found.append(result.ok())
        except Exception as exc:  # an operation schemathesis cannot read
            errors.append(repr(exc))
    assert not errors, errors
    return schema, found


def test_the_served_document_resolves_every_operation(served: tuple[str, dict[str, str]]) -> None:
    base, _ = served
    _, operations = _operations(base)
    names = {(op.method.upper(), op.path) for op in operations}
    assert {("POST", "/api/articles"), ("PUT", "/api/articles/{id}")} <= names
    # The article type is read from the served schema, not lost to an unresolved reference.
    post = next(
        op for op in operations if (op.method.upper(), op.path) == ("POST", "/api/articles")
    )
    body = post.body[0].definition
    assert "headline" in str(body), body


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_answers_conform(
    served: tuple[str, dict[str, str]],
) -> None:
    base, auth = served
    _, operations = _operations(base)
    tried: dict[str, int] = {}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    for operation in operations:
        _fuzz(operation, base, auth, checks, tried)
    assert len(tried) == len(operations), sorted(tried)
    # For the record (pytest -s shows it): how much was tried.
    print(f"schemathesis: {len(tried)} operations, {sum(tried.values())} requests")


def _fuzz(
    operation: Any, base: str, auth: dict[str, str], checks: list[Any], tried: dict[str, int]
) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        tried[label] = tried.get(label, 0) + 1
        case.call_and_validate(base_url=base, headers=auth, checks=checks)

    run()
