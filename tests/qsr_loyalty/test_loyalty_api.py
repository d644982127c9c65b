"""The loyalty API on the embedded default (SQLite file, in-process events): enrollment, balances,
ledger, rewards, redemptions, simulation, idempotency and authorization."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from qsr_kit.domain import payloads
from qsr_loyalty import redemptions
from tests.qsr_loyalty import support


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[support.Service]:
    async with support.running(f"sqlite:///{tmp_path}/loyalty.db") as running:
        yield running


async def funded(service: support.Service, member_id: str, *dollars: int) -> None:
    """Enroll and credit orders, then move past the pending day."""
    assert (await service.enroll(member_id)).status_code == 201
    for n, amount in enumerate(dollars):
        await service.deliver(
            support.completed(
                member_id=member_id, order_key=f"order:{member_id}-{n}", amount_minor=amount * 100
            )
        )
    service.clock.advance(days=2)


async def test_enroll_then_read_member(service: support.Service) -> None:
    await service.enroll("m-1", birthday="1990-11-10")
    response = await service.client.get("/v1/members/m-1", headers=service.headers(key=None))
    assert (response.status_code, response.json()["tier"]) == (200, "member")


async def test_enrolling_twice_is_a_conflict_naming_the_field(service: support.Service) -> None:
    await service.enroll("m-1")
    response = await service.enroll("m-1")
    assert (response.status_code, response.headers["content-type"], response.json()["field"]) == (
        409,
        "application/problem+json",
        "member_id",
    )


async def test_bad_body_names_the_field(service: support.Service) -> None:
    response = await service.client.post(
        "/v1/members", json={"member_id": ""}, headers=service.headers()
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "body.member_id")


async def test_mutation_without_idempotency_key_is_refused(service: support.Service) -> None:
    response = await service.client.post(
        "/v1/members", json={"member_id": "m-1"}, headers=service.headers(key=None)
    )
    assert response.status_code == 400


async def test_same_key_same_body_replays_the_first_response(service: support.Service) -> None:
    headers = service.headers(key="k-1")
    first = await service.client.post("/v1/members", json={"member_id": "m-1"}, headers=headers)
    second = await service.client.post("/v1/members", json={"member_id": "m-1"}, headers=headers)
    assert (second.status_code, second.json(), second.headers.get("idempotent-replayed")) == (
        201,
        first.json(),
        "true",
    )


async def test_same_key_other_body_is_422(service: support.Service) -> None:
    headers = service.headers(key="k-1")
    await service.client.post("/v1/members", json={"member_id": "m-1"}, headers=headers)
    other = await service.client.post("/v1/members", json={"member_id": "m-2"}, headers=headers)
    assert other.status_code == 422


async def test_no_token_is_401(service: support.Service) -> None:
    assert (await service.client.get("/v1/rewards")).status_code == 401


async def test_missing_scope_is_403(service: support.Service) -> None:
    headers = service.headers(key=None, scopes="loyalty:redeem")
    assert (await service.client.get("/v1/rewards", headers=headers)).status_code == 403


async def test_member_reads_only_their_own_balance(service: support.Service) -> None:
    await service.enroll("m-1")
    await service.enroll("m-2")
    own = await service.client.get(
        "/v1/members/m-1/balance", headers=service.headers(member_id="m-1", key=None)
    )
    other = await service.client.get(
        "/v1/members/m-2/balance", headers=service.headers(member_id="m-1", key=None)
    )
    assert (own.status_code, other.status_code) == (200, 403)


async def test_rewards_catalog_is_the_programs(service: support.Service) -> None:
    response = await service.client.get("/v1/rewards", headers=service.headers(key=None))
    assert [r["id"] for r in response.json()] == ["free-drink", "five-off", "twenty-percent"]


async def test_completed_order_is_pending_then_available(service: support.Service) -> None:
    await service.enroll("m-1")
    await service.deliver(
        support.completed(member_id="m-1", order_key="order:o-1", amount_minor=1000)
    )
    pending = await service.balance("m-1")
    service.clock.advance(days=1)
    available = await service.balance("m-1")
    assert (pending["pending"], available["available"]) == (200, 200)  # 100 + welcome 100


async def test_same_order_from_app_and_pos_earns_once(service: support.Service) -> None:
    await service.enroll("m-1")
    key = "check:store-0001:2026-11-10:417"
    await service.deliver(
        support.completed(member_id="m-1", order_key=key, origin=payloads.Origin.APP)
    )
    await service.deliver(
        support.completed(member_id="m-1", order_key=key, origin=payloads.Origin.POS)
    )
    assert (await service.balance("m-1"))["pending"] == 200


async def test_redelivered_event_earns_once(service: support.Service) -> None:
    await service.enroll("m-1")
    event = support.completed(member_id="m-1", order_key="order:o-1")
    await service.deliver(event)
    await service.deliver(event)
    assert (await service.balance("m-1"))["pending"] == 200


async def test_ledger_entries_carry_their_reason_and_rules(service: support.Service) -> None:
    await service.enroll("m-1")
    await service.deliver(support.completed(member_id="m-1", order_key="order:o-1"))
    response = await service.client.get("/v1/members/m-1/ledger", headers=service.headers(key=None))
    entry = response.json()["entries"][0]
    assert (entry["kind"], entry["reason"], [r["rule"] for r in entry["detail"]["rules"]][-1]) == (
        "accrual",
        "order o-1 at store-0001",
        "earning.bonuses[welcome]",
    )


async def test_ledger_pages_with_a_cursor(service: support.Service) -> None:
    await funded(service, "m-1", 10, 20, 30)
    headers = service.headers(key=None)
    first = (await service.client.get("/v1/members/m-1/ledger?limit=2", headers=headers)).json()
    cursor = first["next_cursor"]
    second = (
        await service.client.get(f"/v1/members/m-1/ledger?limit=2&cursor={cursor}", headers=headers)
    ).json()
    assert ([e["points"] for e in first["entries"] + second["entries"]], second["next_cursor"]) == (
        [300, 200, 200],
        None,
    )


async def reserve(service: support.Service, member_id: str, reward_id: str, **body: str):
    return await service.client.post(
        f"/v1/members/{member_id}/redemptions",
        json={"reward_id": reward_id, **body},
        headers=service.headers(),
    )


async def test_reserve_then_commit_spends_points(service: support.Service) -> None:
    await funded(service, "m-1", 50)  # 500 + 100 welcome
    held = (await reserve(service, "m-1", "free-drink")).json()
    during = await service.balance("m-1")
    done = await service.client.post(
        f"/v1/redemptions/{held['redemption_id']}/commit", headers=service.headers()
    )
    after = await service.balance("m-1")
    assert (during["held"], done.json()["state"], after["available"], after["spent"]) == (
        300,
        "committed",
        300,
        300,
    )


async def test_cancel_releases_the_hold(service: support.Service) -> None:
    await funded(service, "m-1", 50)
    held = (await reserve(service, "m-1", "free-drink")).json()
    await service.client.post(
        f"/v1/redemptions/{held['redemption_id']}/cancel", headers=service.headers()
    )
    balance = await service.balance("m-1")
    assert (balance["available"], balance["held"]) == (600, 0)


async def test_reserve_beyond_balance_is_409(service: support.Service) -> None:
    await funded(service, "m-1", 10)
    response = await reserve(service, "m-1", "five-off")
    assert (response.status_code, response.json()["title"]) == (409, "Insufficient points")


async def test_expired_hold_is_released_and_cannot_commit(service: support.Service) -> None:
    await funded(service, "m-1", 50)
    held = (await reserve(service, "m-1", "free-drink")).json()
    service.clock.advance(seconds=901)
    balance = await service.balance("m-1")
    commit = await service.client.post(
        f"/v1/redemptions/{held['redemption_id']}/commit", headers=service.headers()
    )
    assert (balance["available"], balance["held"], commit.status_code) == (600, 0, 409)


async def test_sweep_marks_stale_holds_released(service: support.Service) -> None:
    await funded(service, "m-1", 50)
    held = (await reserve(service, "m-1", "free-drink")).json()
    service.clock.advance(seconds=901)
    await redemptions.sweep(
        service.app.state.loyalty_sessions, service.app.state.loyalty_program, now=service.clock()
    )
    cancel = await service.client.post(
        f"/v1/redemptions/{held['redemption_id']}/cancel", headers=service.headers()
    )
    assert cancel.json()["state"] == "released"


async def test_full_refund_reverses_points_and_recredits_the_reward(
    service: support.Service,
) -> None:
    await funded(service, "m-1", 50)  # 600 available
    held = (await reserve(service, "m-1", "free-drink", order_id="o-9")).json()
    await service.client.post(
        f"/v1/redemptions/{held['redemption_id']}/commit", headers=service.headers()
    )
    await service.deliver(
        support.completed(
            member_id="m-1", order_key="order:o-9", order_id="o-9", at=service.clock()
        )
    )
    await service.deliver(
        support.refunded(
            member_id="m-1",
            order_key="order:o-9",
            order_id="o-9",
            refund_id="r-1",
            amount_minor=1000,
            full=True,
        )
    )
    balance = await service.balance("m-1")
    assert (balance["available"], balance["pending"], balance["negative"]) == (600, 0, 0)


async def test_partial_refunds_reverse_proportionally(service: support.Service) -> None:
    await funded(service, "m-1", 50, 30)  # 600 + 300, order m-1-1 earned 300
    for n in (1, 2):
        await service.deliver(
            support.refunded(
                member_id="m-1", order_key="order:m-1-1", refund_id=f"r-{n}", amount_minor=1000
            )
        )
    assert (await service.balance("m-1"))["available"] == 700


async def test_refund_of_spent_points_is_capped_at_balance(service: support.Service) -> None:
    await funded(service, "m-1", 50)
    held = (await reserve(service, "m-1", "free-drink")).json()
    await service.client.post(
        f"/v1/redemptions/{held['redemption_id']}/commit", headers=service.headers()
    )
    await service.deliver(
        support.refunded(
            member_id="m-1", order_key="order:m-1-0", refund_id="r-1", amount_minor=5000, full=True
        )
    )
    balance = await service.balance("m-1")
    assert (balance["available"], balance["negative"]) == (0, 0)


async def test_cancelled_order_releases_its_holds(service: support.Service) -> None:
    await funded(service, "m-1", 50)
    await reserve(service, "m-1", "free-drink", order_id="o-9")
    await service.deliver(support.cancelled(order_id="o-9"))
    assert (await service.balance("m-1"))["held"] == 0


async def test_simulate_explains_and_writes_nothing(service: support.Service) -> None:
    await service.enroll("m-1")
    body = {
        "order": {
            "order_id": "o-1", "store_id": "store-0001", "channel": "mobile-pickup",
            "placed_at": "2026-11-10T23:15:00-06:00",
            "lines": [{"sku": "combo-family", "quantity": 1, "unit_price_minor": 2000}],
        },
        "member_id": "m-1",
    }  # fmt: skip
    response = await service.client.post(
        "/v1/simulate", json=body, headers=service.headers(key=None)
    )
    ledger = await service.client.get("/v1/members/m-1/ledger", headers=service.headers(key=None))
    assert (response.json()["points"], ledger.json()["entries"]) == (
        640,
        [],
    )  # 200*1.5*1.2*1.5 + 100


async def test_health_and_metrics_are_served(service: support.Service) -> None:
    ready = await service.client.get("/readyz")
    metrics = await service.client.get("/metrics")
    assert (ready.status_code, "loyalty_accruals" in metrics.text) == (200, True)


async def test_poison_event_goes_to_the_dlq_with_its_reason(service: support.Service) -> None:
    await service.enroll("m-1")
    event = support.completed(member_id="m-1", order_key="order:o-1").model_copy(
        update={
            "data": {**support.completed(member_id="m-1", order_key="o").data, "currency": "EUR"}
        }
    )
    await service.deliver(event)
    dead = service.app.state.loyalty_bus.dead
    assert b"currency" in dict(dead[0].headers)["qsr-error"]


async def test_expiry_sweep_runs_once(service: support.Service) -> None:
    await funded(service, "m-1", 10)
    service.clock.now = support.T0 + dt.timedelta(days=366)
    sessions, program = service.app.state.loyalty_sessions, service.app.state.loyalty_program
    first = await redemptions.sweep(sessions, program, now=service.clock())
    second = await redemptions.sweep(sessions, program, now=service.clock())
    assert (first, second, (await service.balance("m-1"))["expired"]) == (200, 0, 200)


async def test_concurrent_redemptions_never_overspend(service: support.Service) -> None:
    await funded(service, "m-1", 100)  # 1100 points: three free drinks at most
    attempts = await asyncio.gather(*(reserve(service, "m-1", "free-drink") for _ in range(100)))
    held = [a.json()["redemption_id"] for a in attempts if a.status_code == 201]
    commits = await asyncio.gather(
        *(
            service.client.post(f"/v1/redemptions/{h}/commit", headers=service.headers())
            for h in held
        )
    )
    balance = await service.balance("m-1")
    outcome = (len(held), [c.status_code for c in commits], balance["available"], balance["spent"])
    assert outcome == (3, [200, 200, 200], 200, 900)


@pytest.mark.parametrize(
    "placed_at",
    [
        pytest.param("0001-01-01T00:00:00Z", id="year-1-in-chicago-underflows"),
        pytest.param("9999-12-31T23:59:59Z", id="year-9999-expiry-overflows"),
    ],
)
async def test_an_implausible_order_time_is_refused_naming_the_field(
    service: support.Service, placed_at: str
) -> None:
    # Found by Schemathesis: year 1 UTC is year 0 in the store's zone, a 500 before this rule.
    await service.enroll("m-1")
    body = {
        "order": {
            "order_id": "o-1", "store_id": "store-0001", "channel": "mobile-pickup",
            "placed_at": placed_at,
            "lines": [{"sku": "combo-family", "quantity": 1, "unit_price_minor": 2000}],
        },
        "member_id": "m-1",
    }  # fmt: skip
    response = await service.client.post(
        "/v1/simulate", json=body, headers=service.headers(key=None)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.order.placed_at"


async def test_an_implausible_birthday_is_refused_naming_the_field(
    service: support.Service,
) -> None:
    response = await service.enroll("m-1", birthday="0001-01-01")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.birthday"
