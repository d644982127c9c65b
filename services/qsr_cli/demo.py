"""`qsr demo`: one guest's purchase through the whole platform, in this process, on SQLite.

sign in → enroll → order with a reward → pay → complete → points earned → refund → points
reversed; every step prints what the services answered. Every call carries a token from the
embedded identity service: the guest's from the authorization-code flow with PKCE, the services'
from client credentials. Simulators stand in for the card processor and the CMS.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

ORDERING, LOYALTY = "http://ordering.embedded", "http://loyalty.embedded"
IDENTITY = "http://identity.embedded"
# A Monday noon in Chicago: store-0001 is open whatever the wall clock says.
T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def demo(
    examples: Path = typer.Option(Path("examples"), help="folder of program and store YAML"),
    member_id: str = typer.Option("m-1001", help="a seeded loyalty member"),
) -> None:
    """Walk a guest through sign in → enroll → order with a reward → pay → complete → refund."""
    with tempfile.TemporaryDirectory(prefix="qsr-demo-") as data:
        asyncio.run(_demo(examples, Path(data), member_id))


def _clock() -> Callable[[], datetime]:
    started = time.monotonic()
    return lambda: T0 + timedelta(seconds=time.monotonic() - started)


async def _demo(examples: Path, data: Path, member_id: str) -> None:
    import httpx

    from qsr_cli import embedded_edge, embedded_identity

    clock = _clock()
    secret = secrets.token_urlsafe(32)
    identity = embedded_identity.identity_app(
        examples, data, issuer=IDENTITY, service_secret=secret, member_id=member_id
    )
    to_identity = httpx.AsyncClient(transport=httpx.ASGITransport(app=identity))
    trust = embedded_identity.Trust(IDENTITY, to_identity, secret)
    loyalty = embedded_identity.loyalty_app(examples, data, trust, clock=clock)
    lifespans = (
        identity.router.lifespan_context(identity),
        loyalty.router.lifespan_context(loyalty),
    )
    async with to_identity, lifespans[0], lifespans[1]:
        mounts: dict[str, Any] = {LOYALTY: httpx.ASGITransport(app=loyalty)}
        edge = embedded_edge.build(
            examples, data, loyalty_app=loyalty, loyalty_url=LOYALTY, trust=trust,
            host="127.0.0.1", ports=embedded_edge.Ports(ordering=0, hub=0, cms=0, cards=0),
            clock=clock, mounts=mounts, ordering_url=ORDERING,
        )  # fmt: skip
        try:
            async with edge.ordering.router.lifespan_context(edge.ordering):
                mounts[ORDERING] = httpx.ASGITransport(app=edge.ordering)
                async with edge.hub.router.lifespan_context(edge.hub):
                    await _walk(edge, trust, mounts, member_id)
        finally:
            for server in edge.simulators:
                server.stop()


async def _walk(edge: Any, trust: Any, mounts: dict[str, Any], member_id: str) -> None:
    import httpx

    from qsr_cli import embedded_identity
    from qsr_identity import seeding

    signed_in = await embedded_identity.sign_in(
        trust, identifier=seeding.DEMO_GUEST, password=seeding.DEMO_PASSWORD
    )
    _step(1, "sign in", f"{seeding.DEMO_GUEST} at {trust.issuer} (authorization code + PKCE): "
          f"{signed_in['token_type']} token for {signed_in['expires_in']} s, "
          f"scope {signed_in['scope']}")  # fmt: skip
    guest = {"Authorization": f"Bearer {signed_in['access_token']}"}
    service = {"Authorization": f"Bearer {await embedded_identity.ServiceTokens(trust)()}"}
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
        _step(2, "enroll", f"{member_id}: HTTP {enrolled.status_code} ({how}); "
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
        _step(3, "order with a reward", f"checkout {placed['checkoutId'][:8]}, "
              f"order {placed['orderId'][:8]}, total {total}, "
              f"reward applied {placed['reward']['applied']}; points held {held['held']}, "
              f"spent {held['spent']}")  # fmt: skip

        charge = await _charge(cards, placed["checkoutId"])
        _step(
            4,
            "pay",
            f"card authorized {charge['amountMinor'] / 100:.2f}, status {charge['status']}",
        )

        for action in ("start_preparation", "mark_ready", "complete"):
            moved = await ordering.post(
                f"/v1/orders/{placed['orderId']}/actions/{action}", headers={**service, **key()}
            )
        await _until(lambda: _charge_status(cards, placed["checkoutId"], "captured"))
        _step(5, "complete", f"order {moved.json()['status']}; payment captured")

        earned: dict[str, Any] = {}

        async def accrued() -> bool:
            earned.update(await balance())
            return bool(earned["pending"] > before["pending"])

        await _until(accrued)
        _step(
            6,
            "points earned",
            f"pending {before['pending']} → {earned['pending']} (spent {earned['spent']})",
        )

        refunded = await ordering.post(
            f"/v1/orders/{placed['orderId']}/refunds", json={}, headers={**service, **key()}
        )
        _step(
            7,
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
            8,
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
