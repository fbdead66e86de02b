"""The IPTC validators: NewsML-G2 2.35 Power (XSD) and ninjs 2.2 (JSON Schema), from
`../shared/conformance`; without those files the tests that need them skip with the reason
(or fail when SYNDICATE_REQUIRE_CONFORMANCE=1). Nothing is fetched from the network."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from tests.helpers.paths import NEWSML_DIR, NEWSML_XSD, NINJS_DIR, NINJS_SCHEMA, require_shared


def require_conformance(path: Path) -> None:
    """Skip (or fail in CI) when the IPTC conformance files are not beside the repo."""
    require_shared(path)


class _LocalXmlXsd(etree.Resolver):
    """Maps the schema's `xml.xsd` import onto the local copy: no network, ever."""

    # lxml-stubs declare an older two-argument signature; lxml calls it with `context`.
    def resolve(  # type: ignore[override]
        self, url: str | None, pubid: str | None, context: Any
    ) -> Any:
        if url is not None and url.endswith("xml.xsd"):
            return self.resolve_filename(str(NEWSML_DIR / "xml.xsd"), context)  # type: ignore[attr-defined]
        return None


@cache
def _newsml_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_LocalXmlXsd())
    return etree.XMLSchema(etree.parse(str(NEWSML_XSD), parser))


def newsml_schema() -> etree.XMLSchema:
    require_conformance(NEWSML_XSD)
    return _newsml_schema()


def parse_xml(data: bytes) -> etree._Element:
    """XML parsed safely: no network, no entity expansion."""
    return etree.fromstring(data, etree.XMLParser(no_network=True, resolve_entities=False))


def newsml_errors(data: bytes) -> list[str]:
    """What the NewsML-G2 XSD finds wrong with a document, one line each (none: valid)."""
    schema = newsml_schema()
    doc = parse_xml(data)
    if schema.validate(doc.getroottree()):
        return []
    return [f"{e.line}: {e.message}" for e in schema.error_log]  # type: ignore[attr-defined]


@cache
def _ninjs_validator() -> Any:
    from jsonschema.validators import validator_for
    from referencing import Registry, Resource

    schema = json.loads(NINJS_SCHEMA.read_text("utf-8"))
    geojson = json.loads((NINJS_DIR / "geojson" / "GeoJSON.json").read_text("utf-8"))
    registry = Registry().with_resource(geojson["$id"], Resource.from_contents(geojson))
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, registry=registry, format_checker=validator_class.FORMAT_CHECKER)


def ninjs_errors(item: dict[str, Any]) -> list[str]:
    """What the ninjs 2.2 schema finds wrong with an item, one line each (none: valid)."""
    require_conformance(NINJS_SCHEMA)
    errors = _ninjs_validator().iter_errors(item)
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors]
