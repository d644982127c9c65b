"""problem+json errors, health routes and request metrics of `qsr_kit.http` (in-process HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from qsr_kit import http


class UnknownMember(Exception):
    pass


class Line(BaseModel):
    sku: str
    quantity: int = Field(ge=1)


class Body(BaseModel):
    lines: list[Line]


class OutOfStock(http.Conflict):
    type = "https://qsr.io/problems/out-of-stock"


def build_app() -> FastAPI:
    app = http.service_app(title="test", domain_errors={UnknownMember: 404})

    @app.get("/v1/members/{member_id}")
    async def member(member_id: str) -> dict[str, str]:
        raise UnknownMember(f"no member {member_id}")

    @app.post("/v1/orders")
    async def order(body: Body) -> dict[str, int]:
        return {"lines": len(body.lines)}

    @app.post("/v1/stock")
    async def stock() -> None:
        raise OutOfStock("burger is out of stock", sku="burger")

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal state 0xdeadbeef")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_domain_error_maps_to_its_status_as_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/members/m-1")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "no member m-1",
        "error": "UnknownMember",
    }


async def test_validation_error_names_the_field_path(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/orders", json={"lines": [{"sku": "a", "quantity": 0}]})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "body.lines.0.quantity"
    assert "body.lines.0.quantity" in body["detail"]


async def test_problem_error_subclass_keeps_type_and_extension_members(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/stock")
    assert response.status_code == 409
    assert response.json()["type"] == "https://qsr.io/problems/out-of-stock"
    assert response.json()["sku"] == "burger"


async def test_unexpected_error_is_a_500_problem_without_internals(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "deadbeef" not in response.text
    assert "Traceback" not in response.text


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_readyz_fails_while_a_check_fails() -> None:
    app = build_app()

    async def broken() -> None:
        raise ConnectionError("db down")

    async def fine() -> None:
        return None

    http.add_readiness_check(app, "db", broken)
    http.add_readiness_check(app, "kafka", fine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        response = await c.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"db": "failed: ConnectionError", "kafka": "ok"}


async def test_readyz_answers_ready_when_checks_pass(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_metrics_count_requests_per_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/v1/members/m-1")
    await client.get("/v1/members/m-2")
    text = (await client.get("/metrics")).text
    assert (
        'http_requests_total{method="GET",route="/v1/members/{member_id}",status="404"} 2.0' in text
    )
    assert "m-1" not in text
