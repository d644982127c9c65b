"""Payment spoke contract: every payment adapter passes it against its simulator."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from qsr_hub.domain import breaker
from qsr_hub.spokes import ports
from qsr_hub.spokes.guard import Guard, Policy
from qsr_hub.spokes.payments_http import CardProcessor
from tests.qsr_hub.sims import Simulator

# The breaker is tested on its own; here it must not open between contract cases.
FAST = Policy(
    timeout=0.5,
    attempts=3,
    base_delay=0.01,
    max_delay=0.02,
    breaker=breaker.Settings(min_calls=1000),
)
Factory = Callable[[httpx.AsyncClient, Simulator], ports.PaymentSpoke]


def _cardsim(client: httpx.AsyncClient, sim: Simulator) -> ports.PaymentSpoke:
    return CardProcessor(client, base_url=sim.url, api_key="dev-only", guard=Guard("cardsim", FAST))


@pytest.fixture(params=[pytest.param(_cardsim, id="cardsim")])
async def spoke(
    request: pytest.FixtureRequest, card_processor: Simulator, http: httpx.AsyncClient
) -> AsyncIterator[tuple[ports.PaymentSpoke, Simulator]]:
    await card_processor.clear(http)
    factory: Factory = request.param
    yield factory(http, card_processor), card_processor
    await card_processor.clear(http)


def ref() -> str:
    return f"ref-{uuid.uuid4().hex}"


def charges(sim: Simulator, reference: str) -> list[dict[str, object]]:
    return [a for a in sim.sim.authorizations.values() if a["reference"] == reference]


async def test_authorize_capture_and_refund(spoke: tuple[ports.PaymentSpoke, Simulator]) -> None:
    payments, sim = spoke
    r = ref()
    auth = await payments.authorize(
        amount_minor=1200, currency="USD", token="tok_visa", reference=r, key=r + "a"
    )
    await payments.capture(auth.id, amount_minor=None, key=r + "c")
    await payments.refund(auth.id, amount_minor=200, key=r + "r")
    [charge] = charges(sim, r)
    assert (charge["status"], charge["capturedMinor"], charge["refundedMinor"]) == (
        "refunded",
        1200,
        200,
    )


async def test_a_declined_card_is_refused(spoke: tuple[ports.PaymentSpoke, Simulator]) -> None:
    payments, _ = spoke
    with pytest.raises(ports.SpokeRefused, match="card_declined"):
        await payments.authorize(
            amount_minor=500, currency="USD", token="tok_declined", reference=ref(), key=ref()
        )


async def test_a_voided_authorization_cannot_be_captured(
    spoke: tuple[ports.PaymentSpoke, Simulator],
) -> None:
    payments, _ = spoke
    r = ref()
    auth = await payments.authorize(
        amount_minor=500, currency="USD", token="tok_visa", reference=r, key=r
    )
    await payments.void(auth.id, key=r + "v")
    with pytest.raises(ports.SpokeRefused):
        await payments.capture(auth.id, amount_minor=None, key=r + "c")


async def test_a_response_dropped_after_authorizing_is_retried_without_a_second_charge(
    spoke: tuple[ports.PaymentSpoke, Simulator], http: httpx.AsyncClient
) -> None:
    payments, sim = spoke
    await sim.arm(
        http, kind="drop_after_success", path_prefix="/v1/authorizations", method="POST", count=1
    )
    r = ref()
    auth = await payments.authorize(
        amount_minor=900, currency="USD", token="tok_visa", reference=r, key=r
    )
    assert [c["id"] for c in charges(sim, r)] == [auth.id]


async def test_server_errors_are_retried_for_idempotent_calls(
    spoke: tuple[ports.PaymentSpoke, Simulator], http: httpx.AsyncClient
) -> None:
    payments, sim = spoke
    await sim.arm(http, kind="error", path_prefix="/v1/authorizations", method="POST", count=2)
    r = ref()
    await payments.authorize(amount_minor=900, currency="USD", token="tok_visa", reference=r, key=r)
    assert len(charges(sim, r)) == 1


async def test_an_authorization_lost_to_a_timeout_is_found_by_reference_and_voided(
    spoke: tuple[ports.PaymentSpoke, Simulator], http: httpx.AsyncClient
) -> None:
    payments, sim = spoke
    await sim.arm(http, kind="drop_after_success", path_prefix="/v1/authorizations", method="POST")
    r = ref()
    with pytest.raises(ports.SpokeUnavailable) as lost:
        await payments.authorize(
            amount_minor=900, currency="USD", token="tok_visa", reference=r, key=r
        )
    assert lost.value.uncertain
    await sim.clear(http)
    [found] = await payments.find(r)
    await payments.void(found.id, key=r + "v")
    assert [c["status"] for c in charges(sim, r)] == ["voided"]
