"""`/metrics` answers only a `metrics` token, and a `metrics` token opens nothing else.

Metrics tell what is held back (`syndicate_pending_embargo_releases`) and how the store
fares, so the public, editors and partners get 401 or 403 there; on every store backend.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from syndicate.core.model import Role
from syndicate.store.base import Store
from tests.helpers.clients import MakeClient
from tests.helpers.error_shape import error_body
from tests.helpers.records import record
from tests.helpers.tokens import partner_header


async def test_metrics_without_a_token_is_401(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.get("/metrics")
    errors = await error_body(resp, 401)
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert "bearer token" in errors[0]["message"]


@pytest.mark.parametrize(
    "authorization", ["Bearer syn_not-a-token", "Basic cHJvbTpzZWNyZXQ=", "Bearer "]
)
async def test_metrics_with_an_invalid_token_is_401(
    make_client: MakeClient, authorization: str
) -> None:
    client = await make_client()
    resp = await client.get("/metrics", headers={"Authorization": authorization})
    await error_body(resp, 401)


@pytest.mark.parametrize("role", ["editor", "partner"])
async def test_metrics_with_another_roles_token_is_403(
    make_client: MakeClient, store: Store, role: Role
) -> None:
    client = await make_client()
    resp = await client.get("/metrics", headers=await partner_header(store, role=role))
    errors = await error_body(resp, 403)
    assert "needs a metrics or admin token" in errors[0]["message"]


async def test_metrics_token_scrapes_prometheus_text(make_client: MakeClient, store: Store) -> None:
    client = await make_client()
    resp = await client.get("/metrics", headers=await partner_header(store, role="metrics"))
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
    assert "syndicate_pending_embargo_releases" in families
    assert "syndicate_store_degraded" in families
    assert [s.value for s in families["syndicate_store_degraded"].samples] == [0.0]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/status"),
        ("POST", "/api/articles"),
        ("POST", "/api/articles/bulk"),
        ("GET", "/api/articles/en-1"),
        ("PUT", "/api/articles/en-1"),
        ("DELETE", "/api/articles/en-1"),
        ("POST", "/api/regenerate"),
        ("GET", "/partners/newsml/global.xml"),
        ("GET", "/partners/ninjs/global.json"),
        ("GET", "/partners/newsml/items/en-1.xml"),
        ("GET", "/partners/ninjs/items/en-1.json"),
    ],
)
async def test_a_metrics_token_opens_no_editor_or_partner_endpoint(
    make_client: MakeClient, store: Store, method: str, path: str
) -> None:
    client = await make_client()
    headers = await partner_header(store, role="metrics")
    resp = await client.request(method, path, json=record("en-1"), headers=headers)
    await error_body(resp, 403)
