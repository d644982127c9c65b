"""Every route from the OpenAPI document, so a new route cannot forget its guard: anything not on
the public list answers 401 without a token, and any route with an id refuses another guest's id."""

from __future__ import annotations

import re

from fastapi import FastAPI

from tests.qsr_identity.conftest import Flows, bearer

# Reachable without a bearer token by design (discovery, keys, sign-up, OAuth endpoints that use
# client authentication or credentials in the form).
PUBLIC = {
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/v1/guests"),
    ("POST", "/oauth2/authorize"),
    ("POST", "/oauth2/token"),
    ("POST", "/oauth2/revoke"),
}


def operations(app: FastAPI) -> list[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return [(method.upper(), path) for path, item in paths.items() for method in item]


async def test_every_non_public_route_needs_a_token(app: FastAPI, flows: Flows) -> None:
    guarded = [op for op in operations(app) if op not in PUBLIC]
    assert guarded, "no guarded routes found"
    for method, path in guarded:
        url = re.sub(r"\{[^}]+\}", "some-id", path)
        response = await flows.http.request(method, url, json={})
        assert (method, path, response.status_code) == (method, path, 401)


async def test_every_route_with_an_id_refuses_another_guests_id(app: FastAPI, flows: Flows) -> None:
    owner = await flows.guest("owner@example.com", scope="profile")
    intruder = await flows.guest("intruder@example.com", scope="profile")
    owner_id = (await (await flows.verifier()).verify(owner["access_token"])).subject
    with_ids = [(m, p) for m, p in operations(app) if "{" in p]
    assert with_ids, "no routes with ids found"
    for method, path in with_ids:
        url = re.sub(r"\{[^}]+\}", owner_id, path)
        response = await flows.http.request(
            method, url, json={}, headers=bearer(intruder["access_token"])
        )
        assert (method, path, response.status_code in (403, 404)) == (method, path, True)
