"""Edge protections of the identity app: security headers, body limit, docs off, problem bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from qsr_identity.main import create_app
from qsr_identity.settings import IdentitySettings
from tests.qsr_identity.conftest import ISSUER, PASSWORD, Clock, Flows, identity_settings, running


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


async def test_cors_allows_only_configured_origins(tmp_path: Path, clock: Clock) -> None:
    settings = identity_settings(tmp_path, cors_origins=("https://app.brand.example",))
    async with running(create_app(settings, clock=clock)) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            allowed, other = [
                await http.options(
                    "/oauth2/token",
                    headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
                )
                for origin in ("https://app.brand.example", "https://evil.example")
            ]
    assert allowed.headers["access-control-allow-origin"] == "https://app.brand.example"
    assert "access-control-allow-origin" not in other.headers
