"""`qsr demo`: one guest's purchase through the whole platform, in this process, on SQLite.

enroll → order with a reward → pay → complete → points earned → refund → points reversed; every
step prints what the services answered. Simulators stand in for the card processor and the CMS.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

ORDERING, LOYALTY = "http://ordering.embedded", "http://loyalty.embedded"
# A Monday noon in Chicago: store-0001 is open whatever the wall clock says.
T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def demo(
    examples: Path = typer.Option(Path("examples"), help="folder of program and store YAML"),
    member_id: str = typer.Option("m-1001", help="a seeded loyalty member"),
) -> None:
    """Walk a guest through enroll → order with a reward → pay → complete → earn → refund."""
    with tempfile.TemporaryDirectory(prefix="qsr-demo-") as data:
        asyncio.run(_demo(examples, Path(data), member_id))


def _clock() -> Callable[[], datetime]:
    started = time.monotonic()
    return lambda: T0 + timedelta(seconds=time.monotonic() - started)


async def _demo(examples: Path, data: Path, member_id: str) -> None:
    import httpx

    from qsr_cli import embedded_edge
    from qsr_loyalty import main as loyalty_main
    from qsr_loyalty.settings import Settings

    clock = _clock()
    loyalty = loyalty_main.create_app(
        Settings(database_url=f"sqlite:///{data}/loyalty.db", config_dir=examples, seed=True),
        clock=clock,
    )
    async with loyalty.router.lifespan_context(loyalty):
        mounts: dict[str, Any] = {LOYALTY: httpx.ASGITransport(app=loyalty)}
        edge = embedded_edge.build(
            examples, data, loyalty_app=loyalty, loyalty_url=LOYALTY, host="127.0.0.1",
            ports=embedded_edge.Ports(ordering=0, hub=0, cms=0, cards=0), clock=clock,
            mounts=mounts, ordering_url=ORDERING,
        )  # fmt: skip
        try:
            async with edge.ordering.router.lifespan_context(edge.ordering):
                mounts[ORDERING] = httpx.ASGITransport(app=edge.ordering)
                async with edge.hub.router.lifespan_context(edge.hub):
                    await _walk(edge, loyalty, mounts, member_id)
        finally:
            for server in edge.simulators:
                server.stop()


async def _walk(edge: Any, loyalty: Any, mounts: dict[str, Any], member_id: str) -> None:
    import httpx

    from qsr_cli import embedded_edge

    guest = {"Authorization": f"Bearer {embedded_edge.guest_token(loyalty, member_id)}"}
    service = {"Authorization": f"Bearer {embedded_edge.service_token(loyalty)}"}
    hub = httpx.AsyncClient(transport=httpx.ASGITransport(app=edge.hub), base_url="http://hub")
    ordering = httpx.AsyncClient(transport=mounts[ORDERING], base_url=ORDERING)
    loyal = httpx.AsyncClient(transport=mounts[LOYALTY], base_url=LOYALTY)
    cards = httpx.AsyncClient(base_url=edge.urls["cards"])
    async with hub, ordering, loyal, cards:

        async def balance() -> dict[str, Any]:
            found: dict[str, Any] = (
                await loyal.get(f"/v1/members/{member_id}/balance", headers=service)
            ).json()
            return found

        def key() -> dict[str, str]:
            return {"Idempotency-Key": str(uuid.uuid4())}

        enrolled = await loyal.post(
            "/v1/members", json={"member_id": member_id}, headers={**guest, **key()}
        )
        before = await balance()
        how = "already enrolled, seeded" if enrolled.status_code == 409 else "enrolled"
        _step(1, "enroll", f"{member_id}: HTTP {enrolled.status_code} ({how}); "
              f"available {before['available']}, pending {before['pending']} points")  # fmt: skip

        body = {
            "storeId": "store-0001",
            "channel": "mobile-pickup",
            "cart": {"lines": [
                {"sku": "chicken-sandwich", "quantity": 2},
                {"sku": "drink-medium", "quantity": 1, "modifiers": ["cola"]},
            ]},
            "rewardId": "free-drink",
            "paymentToken": "tok_visa",
        }  # fmt: skip
        placed = (await hub.post("/v1/checkout", json=body, headers={**guest, **key()})).json()
        held = await balance()
        total = f"{placed['totalMinor'] / 100:.2f} {placed['currency']}"
        _step(2, "order with a reward", f"checkout {placed['checkoutId'][:8]}, "
              f"order {placed['orderId'][:8]}, total {total}, "
              f"reward applied {placed['reward']['applied']}; points held {held['held']}, "
              f"spent {held['spent']}")  # fmt: skip

        charge = await _charge(cards, placed["checkoutId"])
        _step(
            3,
            "pay",
            f"card authorized {charge['amountMinor'] / 100:.2f}, status {charge['status']}",
        )

        for action in ("start_preparation", "mark_ready", "complete"):
            moved = await ordering.post(
                f"/v1/orders/{placed['orderId']}/actions/{action}", headers={**service, **key()}
            )
        await _until(lambda: _charge_status(cards, placed["checkoutId"], "captured"))
        _step(4, "complete", f"order {moved.json()['status']}; payment captured")

        earned: dict[str, Any] = {}

        async def accrued() -> bool:
            earned.update(await balance())
            return bool(earned["pending"] > before["pending"])

        await _until(accrued)
        _step(
            5,
            "points earned",
            f"pending {before['pending']} → {earned['pending']} (spent {earned['spent']})",
        )

        refunded = await ordering.post(
            f"/v1/orders/{placed['orderId']}/refunds", json={}, headers={**service, **key()}
        )
        _step(
            6,
            "refund",
            f"order {refunded.json()['status']}, "
            f"refunded {refunded.json()['refundedMinor'] / 100:.2f} (card refund: not wired)",
        )

        after: dict[str, Any] = {}

        async def reversed_() -> bool:
            after.update(await balance())
            return bool(after["pending"] < earned["pending"])

        await _until(reversed_)
        _step(
            7,
            "points reversed",
            f"pending {earned['pending']} → {after['pending']}, available {after['available']}",
        )


async def _charge(cards: Any, reference: str) -> dict[str, Any]:
    state = (await cards.get("/_state")).json()
    return next(a for a in state["authorizations"] if a["reference"] == reference)


async def _charge_status(cards: Any, reference: str, status: str) -> bool:
    return bool((await _charge(cards, reference))["status"] == status)


async def _until(check: Callable[[], Awaitable[bool]], *, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise typer.Exit(code=1)
        await asyncio.sleep(0.05)


def _step(n: int, name: str, detail: str) -> None:
    typer.echo(f"{n}. {name:<20} {detail}")
