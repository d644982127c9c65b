"""POS webhooks: signed and fresh or refused, kept raw, 2xx then processed, announced once."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from qsr_hub.simulators.pos_payloads import Sale
from qsr_kit import db, schema
from tests.qsr_hub.platform import Platform, eventually, member


def sale(platform: Platform, member_id: str | None, **changes: Any) -> Sale:
    base: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "check_number": str(uuid.uuid4().int % 100000),
        "business_date": "2026-11-23",
        "closed_at": platform.clock.now,
        "items": (("1001", 1, 699), ("2001", 2, 249)),
        "member_id": member_id,
    }
    return Sale(**{**base, **changes})


async def status_of(
    platform: Platform, event_id: int, store_id: str = "store-0001"
) -> dict[str, Any]:
    response = await platform.client.get(
        f"/v1/pos/{store_id}/events/{event_id}",
        headers={"Authorization": f"Bearer {platform.token()}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def settled(
    platform: Platform, event_id: int, store_id: str = "store-0001"
) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def done() -> bool:
        found.update(await status_of(platform, event_id, store_id))
        return bool(found["status"] != "received")

    await eventually(done)
    return found


async def test_a_signed_check_is_accepted_then_announced_and_accrued_once(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    m = member(platform, points=0)
    [answer] = await platform.sender(http).send(sale(platform, m), now=platform.clock.now)
    assert answer.status_code == 202
    report = (await settled(platform, answer.json()["eventId"]))["report"]
    assert len(report["announced"]) == 1
    # (699 + 2 * 249) = 1197 → 119 points at the external provider
    await eventually(lambda: platform.points(m) == 119)


async def test_duplicate_deliveries_are_kept_once_and_earn_once(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    m = member(platform, points=0)
    answers = await platform.sender(http).send(sale(platform, m), now=platform.clock.now, copies=3)
    assert [a.json()["duplicate"] for a in answers] == [False, True, True]
    assert len({a.json()["eventId"] for a in answers}) == 1
    await settled(platform, answers[0].json()["eventId"])
    await eventually(lambda: platform.points(m) == 119)


async def test_a_check_resent_under_another_event_id_is_announced_once(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    m = member(platform, points=0)
    first = sale(platform, m)
    again = Sale(**{**first.__dict__, "event_id": str(uuid.uuid4())})
    sender = platform.sender(http)
    [a] = await sender.send(first, now=platform.clock.now)
    [b] = await sender.send(again, now=platform.clock.now)
    await settled(platform, a.json()["eventId"])
    assert (await settled(platform, b.json()["eventId"]))["report"]["alreadyAnnounced"] == [
        f"pos:store-0001:2026-11-23:{first.check_number}"
    ]
    await eventually(lambda: platform.points(m) == 119)


async def test_an_open_update_arriving_after_the_close_is_ignored(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    m = member(platform, points=0)
    closed = sale(platform, m)
    still_open = Sale(**{**closed.__dict__, "event_id": str(uuid.uuid4()), "closed_at": None})
    sender = platform.sender(http)
    [a] = await sender.send(closed, now=platform.clock.now)
    [b] = await sender.send(still_open, now=platform.clock.now)
    assert (await settled(platform, b.json()["eventId"]))["status"] == "ignored"
    await settled(platform, a.json()["eventId"])
    await eventually(lambda: platform.points(m) == 119)


async def test_a_bad_signature_is_401_naming_the_header(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    [answer] = await platform.sender(http).send(
        sale(platform, None), now=platform.clock.now, secret=b"not-it"
    )
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["field"] == "X-QSR-Signature"


async def test_an_expired_timestamp_is_401_naming_the_header(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    stale = int((platform.clock.now - timedelta(minutes=6)).timestamp())
    [answer] = await platform.sender(http).send(
        sale(platform, None), now=platform.clock.now, timestamp=stale
    )
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["field"] == "X-QSR-Timestamp"


async def test_a_malformed_body_is_400_naming_the_field_and_kept(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    sender = platform.sender(http)
    body = sender.body_of(sale(platform, None))
    del body["details"]["order"]["businessDate"]
    [answer] = await sender.send(None, now=platform.clock.now, raw=json.dumps(body).encode())
    assert answer.status_code == 400
    problem = answer.json()
    assert problem["errors"][0]["field"] == "details.order.businessDate"
    kept = await status_of(platform, problem["keptAs"])
    assert (kept["status"], kept["errorField"]) == ("rejected", "details.order.businessDate")


async def test_a_body_that_is_not_json_is_kept_as_rejected(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    [answer] = await platform.sender(http).send(None, now=platform.clock.now, raw=b"{not json")
    assert (answer.status_code, answer.json()["errors"][0]["field"]) == (400, "$")


async def test_an_unmapped_item_is_reported(platform: Platform, http: httpx.AsyncClient) -> None:
    odd = sale(platform, None, items=(("1001", 1, 699), ("7777", 1, 100)))
    [answer] = await platform.sender(http).send(odd, now=platform.clock.now)
    report = (await settled(platform, answer.json()["eventId"]))["report"]
    assert report["unmapped"] == [{"posItemId": "7777", "field": "lines[1].posItemId"}]


async def test_a_square_store_and_a_generic_store_are_read_too(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    for store_id in ("store-0002", "store-0003"):
        [answer] = await platform.sender(http, store_id).send(
            sale(platform, None), now=platform.clock.now
        )
        assert answer.status_code == 202, answer.text
        assert (await settled(platform, answer.json()["eventId"], store_id))[
            "status"
        ] == "processed"


async def test_the_app_order_and_its_pos_check_earn_once(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    m = member(platform, points=0)
    placed = await platform.checkout(m, rewardId=None)
    order_id = placed.json()["orderId"]
    await platform.staff(order_id, "start_preparation", "mark_ready", "complete")
    # 699 + 249 = 948 → 94 points from the app order
    await eventually(lambda: platform.points(m) == 94)

    check = sale(platform, m, items=(("1001", 1, 699), ("2001", 1, 249)), app_order_id=order_id)
    [answer] = await platform.sender(http).send(check, now=platform.clock.now)
    assert (await settled(platform, answer.json()["eventId"]))["report"]["announced"] == [order_id]

    async def both_consumed() -> bool:
        async with db.transaction(platform.hub.state.hub.sessions) as session:
            seen = await session.scalar(
                sa.select(sa.func.count())
                .select_from(schema.inbox)
                .where(schema.inbox.c.event_type == "io.qsr.order.completed.v1")
            )
        return seen == 2

    await eventually(both_consumed)  # the hub saw the app's and the POS's order.completed
    assert platform.points(m) == 94
