"""Federation: ID tokens of a configured external IdP (simulated over real HTTP) become guest
tokens linked to one account; foreign, expired or wrong-audience tokens are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qsr_identity.main import create_app
from qsr_identity.settings import ExternalIssuer
from tests.qsr_identity.conftest import ISSUER, Clock, Flows, bearer, identity_settings, running
from tests.qsr_identity.idp_simulator import IdpSimulator, running_idp

ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


@pytest.fixture
async def idp() -> AsyncIterator[IdpSimulator]:
    async with running_idp(IdpSimulator()) as simulator:
        yield simulator


@pytest.fixture
async def fed(tmp_path: Path, idp: IdpSimulator, clock: Clock) -> AsyncIterator[Flows]:
    trusted = ExternalIssuer(issuer=idp.url, jwks_url=idp.jwks_url, audience=idp.audience)
    app = create_app(identity_settings(tmp_path, federation=(trusted,)), clock=clock)
    async with running(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            yield Flows(http, clock)


async def exchange(flows: Flows, id_token: str) -> httpx.Response:
    form = {
        "grant_type": EXCHANGE,
        "client_id": "app",
        "subject_token": id_token,
        "subject_token_type": ID_TOKEN,
    }
    return await flows.token(form)


async def member_of(flows: Flows, body: dict[str, Any]) -> str | None:
    return (await (await flows.verifier()).verify(body["access_token"])).member_id


async def test_external_id_token_becomes_a_guest_token(fed: Flows, idp: IdpSimulator) -> None:
    response = await exchange(fed, idp.id_token("u-1", now=fed.clock.now))
    assert response.status_code == 200, response.text
    principal = await (await fed.verifier()).verify(response.json()["access_token"])
    assert principal.kind == "guest"
    assert "refresh_token" in response.json()


async def test_same_external_subject_maps_to_the_same_member(fed: Flows, idp: IdpSimulator) -> None:
    first = (await exchange(fed, idp.id_token("u-2", now=fed.clock.now))).json()
    again = (await exchange(fed, idp.id_token("u-2", now=fed.clock.now))).json()
    other = (await exchange(fed, idp.id_token("u-3", now=fed.clock.now))).json()
    assert await member_of(fed, first) == await member_of(fed, again) != await member_of(fed, other)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": "someone-else"}, id="wrong-audience"),
        pytest.param({"iss": "http://127.0.0.1:1"}, id="untrusted-issuer"),
        pytest.param({"exp": 1_700_000_000}, id="expired"),
    ],
)
async def test_bad_external_tokens_are_invalid_grant(
    fed: Flows, idp: IdpSimulator, changes: dict[str, Any]
) -> None:
    response = await exchange(fed, idp.id_token("u-4", now=fed.clock.now, **changes))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_rotated_idp_key_is_fetched_on_unknown_kid(fed: Flows, idp: IdpSimulator) -> None:
    assert (await exchange(fed, idp.id_token("u-5", now=fed.clock.now))).status_code == 200
    idp.rotate()
    fed.clock.now += 11  # past the refetch rate limit
    assert (await exchange(fed, idp.id_token("u-5", now=fed.clock.now))).status_code == 200
    assert idp.jwks_hits == 2


async def test_idp_outage_before_first_fetch_is_503(fed: Flows, idp: IdpSimulator) -> None:
    idp.down = True
    response = await exchange(fed, idp.id_token("u-6", now=fed.clock.now))
    assert response.status_code == 503


async def test_signed_in_guest_links_an_external_identity(fed: Flows, idp: IdpSimulator) -> None:
    own = await fed.guest("link@example.com", scope="profile")
    linked = await fed.http.post(
        "/v1/accounts/me/links",
        json={"id_token": idp.id_token("u-7", now=fed.clock.now)},
        headers=bearer(own["access_token"]),
    )
    assert linked.status_code == 204
    via_idp = (await exchange(fed, idp.id_token("u-7", now=fed.clock.now))).json()
    assert await member_of(fed, via_idp) == await member_of(fed, own)
