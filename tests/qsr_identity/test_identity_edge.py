"""Edge protections of the identity app: security headers, body limit, docs off, problem bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator

from qsr_identity.settings import IdentitySettings
from tests.qsr_identity.conftest import PASSWORD, Flows


async def test_every_answer_has_security_headers(flows: Flows) -> None:
    response = await flows.http.get("/.well-known/openid-configuration")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


async def test_jwks_may_be_cached_by_verifiers(flows: Flows) -> None:
    response = await flows.http.get("/.well-known/jwks.json")
    assert response.headers["cache-control"] == "public, max-age=300"


async def test_declared_oversized_body_is_413(flows: Flows, settings: IdentitySettings) -> None:
    body = {
        "identifier": "big@example.com",
        "password": PASSWORD,
        "pad": "x" * settings.max_body_bytes,
    }
    response = await flows.http.post("/v1/guests", json=body)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_streamed_oversized_body_is_413(flows: Flows, settings: IdentitySettings) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(settings.max_body_bytes // 1024 + 1):
            yield b"x" * 1024

    response = await flows.http.post(
        "/v1/guests", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_swagger_ui_is_off_by_default(flows: Flows) -> None:
    assert (await flows.http.get("/docs")).status_code == 404


async def test_malformed_json_is_a_problem_without_internals(flows: Flows) -> None:
    response = await flows.http.post(
        "/v1/guests", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in response.text
