"""Object- and function-level authorization on identity routes with an id or admin-only
(OWASP API1, API5): zero leaks across guests, staff and services."""

from __future__ import annotations

import logging

import pytest

from tests.qsr_identity.conftest import ADMIN_SECRET, PASSWORD, SERVICE_SECRET, Flows, bearer


class Cast:
    def __init__(self, flows: Flows) -> None:
        self.flows = flows
        self.tokens: dict[str, str] = {}
        self.subjects: dict[str, str] = {}

    async def build(self) -> Cast:
        for name in ("guest_a", "guest_b"):
            self.tokens[name] = (await self.flows.guest(f"{name}@example.com"))["access_token"]
        admin = await self.flows.service_token("admin", ADMIN_SECRET)
        body = {"identifier": "staff@store.test", "password": PASSWORD, "store_ids": ["st-1"]}
        assert (
            await self.flows.http.post("/v1/staff", json=body, headers=bearer(admin))
        ).status_code == 201
        self.tokens["staff"] = (await self.flows.sign_in("staff@store.test"))["access_token"]
        self.tokens["service"] = await self.flows.service_token("hub", SERVICE_SECRET)
        self.tokens["admin"] = admin
        verifier = await self.flows.verifier()
        for name, token in self.tokens.items():
            self.subjects[name] = (await verifier.verify(token)).subject
        return self


ACCOUNT_READS = [
    ("guest_a", "guest_a", 200),
    ("guest_a", "guest_b", 403),
    ("guest_b", "guest_a", 403),
    ("staff", "guest_a", 403),
    ("staff", "staff", 200),
    ("guest_a", "staff", 403),
    ("service", "guest_a", 200),
    ("service", "staff", 200),
]


async def test_account_reads_follow_the_object_matrix(flows: Flows) -> None:
    cast = await Cast(flows).build()
    for caller, target, expected in ACCOUNT_READS:
        url = f"/v1/accounts/{cast.subjects[target]}"
        response = await flows.http.get(url, headers=bearer(cast.tokens[caller]))
        assert (caller, target, response.status_code) == (caller, target, expected)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("POST", "/v1/staff", id="create-staff"),
        pytest.param("POST", "/v1/keys/rotate", id="rotate-keys"),
    ],
)
async def test_admin_routes_refuse_every_non_admin(flows: Flows, method: str, path: str) -> None:
    cast = await Cast(flows).build()
    body = {"identifier": "x@store.test", "password": PASSWORD, "store_ids": ["st-9"]}
    for caller in ("guest_a", "staff", "service"):
        response = await flows.http.request(
            method, path, json=body, headers=bearer(cast.tokens[caller])
        )
        assert (caller, response.status_code) == (caller, 403)
    anonymous = await flows.http.request(method, path, json=body)
    assert anonymous.status_code == 401


async def test_no_password_token_or_secret_reaches_the_logs(
    flows: Flows, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = await flows.guest("quiet@example.com")
    refreshed = (await flows.refresh(tokens["refresh_token"])).json()
    await flows.authorize("quiet@example.com", "wrong password 1", verifier="v" * 43)
    service = await flows.service_token("hub", SERVICE_SECRET)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (
        PASSWORD,
        "wrong password 1",
        SERVICE_SECRET,
        service,
        *tokens.values(),
        *refreshed.values(),
    ):
        if isinstance(secret, str) and len(secret) > 8:
            assert secret not in logged
