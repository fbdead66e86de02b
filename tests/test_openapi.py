"""The OpenAPI document parses, and it describes exactly the routes the app serves."""

from __future__ import annotations

import re
from typing import Any

import yaml

from syndicate.core.config import Settings
from syndicate.web.app import create_app
from tests.helpers.paths import ROOT

OPENAPI = ROOT / "schemas" / "openapi.yaml"
METHODS = {"get", "post", "put", "delete", "patch", "head"}


def _document() -> dict[str, Any]:
    document = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _normalise(path: str) -> str:
    # aiohttp writes `{section:regex}`; OpenAPI writes `{section}`. Feeds are one route.
    return re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path)


def test_openapi_parses_and_declares_3_1() -> None:
    document = _document()
    assert document["openapi"].startswith("3.1")
    assert document["paths"]


def test_every_route_is_documented_and_every_documented_path_is_served(
    settings: Settings,
) -> None:
    app = create_app(settings, run_scheduler=False)
    served: set[tuple[str, str]] = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and route.method.lower() in METHODS - {"head"}:
            served.add((route.method.lower(), _normalise(path)))
    documented: set[tuple[str, str]] = set()
    for path, item in _document()["paths"].items():
        for method in item:
            if method in METHODS:
                documented.add((method, path))
    # The three feed files are one route in the app and three paths in the document.
    feeds = {("get", f"/feeds/{{section}}/{name}") for name in ("rss.xml", "atom.xml", "feed.json")}
    assert feeds <= documented
    documented = (documented - feeds) | {("get", "/feeds/{section}/{name}")}
    undocumented = {r for r in served if not r[1].startswith("/static/")} - documented
    assert not undocumented, f"routes missing from openapi.yaml: {sorted(undocumented)}"
    assert not documented - served, f"documented but not served: {sorted(documented - served)}"


def test_every_reference_resolves() -> None:
    document = _document()
    text = OPENAPI.read_text(encoding="utf-8")
    for ref in re.findall(r'\$ref: "([^"]+)"', text):
        if not ref.startswith("#/"):
            assert (OPENAPI.parent / ref).is_file(), ref
            continue
        node: Any = document
        for part in ref[2:].split("/"):
            assert part in node, ref
            node = node[part]


def test_the_document_is_valid_openapi() -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    document, base_uri = read_from_filename(str(OPENAPI))
    validate(document, base_uri=base_uri)  # raises, naming the path, when it is not
