"""Checkout end to end: the saga over the real ordering service, simulators for card and loyalty."""

from __future__ import annotations

import httpx

from tests.qsr_hub.platform import Platform, eventually, member


async def test_checkout_places_the_order_and_completion_captures_the_payment(
    platform: Platform,
) -> None:
    m = member(platform)
    response = await platform.checkout(m)
    assert response.status_code == 201, response.text
    answer = response.json()
    # sandwich 699 + drink 249 - free drink 249 = 699; tax 8.25 % → 57.67 → 58
    assert (answer["totalMinor"], answer["reward"]["applied"]) == (699 + 58, True)
    [charge] = platform.charges(answer["checkoutId"])
    assert charge["status"] == "authorized"
    assert platform.points(m) == 1000 - 300

    await platform.staff(answer["orderId"], "start_preparation", "mark_ready", "complete")

    await eventually(lambda: charge["status"] == "captured")
    # the external provider accrued the completed order once: 699 → 69 points
    await eventually(lambda: platform.points(m) == 1000 - 300 + 69)


async def test_a_bad_cart_fails_at_pricing_naming_the_field_and_charges_nothing(
    platform: Platform,
) -> None:
    m = member(platform)
    response = await platform.checkout(m, cart={"lines": [{"sku": "caviar", "quantity": 1}]})
    assert response.status_code == 422
    problem = response.json()
    assert (problem["failedStep"], problem["errors"][0]["field"]) == ("price", "cart.lines[0].sku")
    assert platform.charges(problem["checkoutId"]) == []
    assert platform.points(m) == 1000


async def test_not_enough_points_fails_before_any_charge(platform: Platform) -> None:
    m = member(platform, points=10)
    response = await platform.checkout(m)
    assert (response.status_code, response.json()["failedStep"]) == (409, "reserve_reward")
    assert platform.charges(response.json()["checkoutId"]) == []


async def test_a_declined_card_releases_the_reward(platform: Platform) -> None:
    m = member(platform)
    response = await platform.checkout(m, paymentToken="tok_declined")
    assert (response.status_code, response.json()["failedStep"]) == (402, "authorize_payment")
    assert response.json()["compensated"] == ["release_reward"]
    assert platform.points(m) == 1000


async def test_a_payment_timeout_after_authorizing_voids_it_and_releases_the_reward(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    m = member(platform)
    await platform.cards.arm(
        http, kind="drop_after_success", path_prefix="/v1/authorizations", method="POST", count=3
    )
    response = await platform.checkout(m)
    assert (response.status_code, response.json()["failedStep"]) == (503, "authorize_payment")
    assert response.json()["phase"] == "failed"
    # one authorization despite three attempts, and it is void: no charge, no double charge
    assert [c["status"] for c in platform.charges(response.json()["checkoutId"])] == ["voided"]
    assert platform.points(m) == 1000


async def test_a_full_slot_voids_the_payment_and_names_the_next_free_slots(
    platform: Platform,
) -> None:
    for _ in range(12):
        assert (await platform.checkout(member(platform), rewardId=None)).status_code == 201
    m = member(platform)
    response = await platform.checkout(m)
    problem = response.json()
    assert (response.status_code, problem["failedStep"], problem["code"]) == (
        409,
        "place_order",
        "slot-full",
    )
    assert problem["nextFreeSlots"][0] == "2026-11-23T18:15:00+00:00"
    assert [c["status"] for c in platform.charges(problem["checkoutId"])] == ["voided"]
    assert platform.points(m) == 1000


async def test_loyalty_down_at_checkout_places_the_order_without_the_reward(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    m = member(platform)
    await platform.loyalty.arm(http, kind="error", path_prefix="/v1/redemptions")
    response = await platform.checkout(m)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["reward"]["applied"] is False and "503" in answer["reward"]["skippedBecause"]
    # priced again without the discount: 699 + 249 = 948, tax 78
    assert answer["totalMinor"] == 948 + 78
    await platform.loyalty.clear(http)
    # the reservation the timeouts may have made is released once loyalty answers again
    await eventually(lambda: platform.points(m) == 1000)


async def test_a_commit_that_fails_is_retried_until_loyalty_answers(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    m = member(platform)
    await platform.loyalty.arm(http, kind="error", path_prefix="/v1/redemptions/", method="POST")
    await platform.loyalty.arm(http, kind="error", path_prefix="/v1/redemptions/rd_")
    response = await platform.checkout(m)
    assert response.status_code == 201, response.text
    await platform.loyalty.clear(http)

    async def committed() -> bool:
        return [
            r["status"] for r in platform.loyalty.sim.redemptions.values() if r["memberId"] == m
        ] == ["committed"]

    await eventually(committed)


async def test_the_same_idempotency_key_replays_the_checkout(platform: Platform) -> None:
    m = member(platform)
    first = await platform.checkout(m, key="same-key")
    again = await platform.checkout(m, key="same-key")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert len(platform.charges(first.json()["checkoutId"])) == 1
    other = await platform.checkout(m, key="same-key", paymentToken="tok_other")
    assert other.status_code == 422


async def test_the_summary_is_partial_when_loyalty_is_down(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    m = member(platform)
    await platform.checkout(m)
    await platform.loyalty.arm(http, kind="error", path_prefix="/v1/guests")
    response = await platform.client.get(
        "/v1/me/summary", headers={"Authorization": f"Bearer {platform.token(member_id=m)}"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["partial"], body["loyalty"], [x["section"] for x in body["missing"]]) == (
        True,
        None,
        ["loyalty"],
    )
    assert len(body["orders"]) == 1


async def test_a_checkout_is_readable_by_its_guest_and_services_but_no_other_guest(
    platform: Platform,
) -> None:
    owner, stranger = member(platform), member(platform)
    placed = await platform.checkout(owner)
    assert placed.status_code == 201, placed.text
    path = f"/v1/checkout/{placed.json()['checkoutId']}"

    def as_(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    mine = await platform.client.get(path, headers=as_(platform.token(member_id=owner)))
    theirs = await platform.client.get(path, headers=as_(platform.token(member_id=stranger)))
    service = await platform.client.get(path, headers=as_(platform.token()))
    anonymous = await platform.client.get(path)
    assert mine.status_code == 201 and mine.json()["checkoutId"] == placed.json()["checkoutId"]
    # another guest learns nothing, not even that the checkout exists
    assert (theirs.status_code, theirs.json()["title"]) == (404, "Not Found")
    assert service.status_code == 201
    assert anonymous.status_code == 401
