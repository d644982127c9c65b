"""A program change re-tiers every member at start (set-based, in batches): raised thresholds drop
members a tier with one event each; an unchanged program writes nothing; an interrupted run resumes
after its cursor; a run over tiers already applied changes nobody. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml

from qsr_devstack import testing
from qsr_kit import auth, db, schema
from qsr_kit.domain import payloads, specs
from qsr_loyalty import main, program, retiering
from qsr_loyalty.settings import Settings
from tests.qsr_loyalty import support
from tests.qsr_loyalty.conftest import EXAMPLES

FUNDED = 4000  # two orders at the per-order cap (2000): gold (2500) in the example program


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/retier.db"
    postgres: testing.Postgres = request.getfixturevalue("postgres")
    return postgres.create_database(f"retier_{uuid.uuid4().hex[:10]}")


@pytest.fixture
def raised(tmp_path: Path) -> Path:
    """The examples with gold at 5000 and platinum at 12000 (was 2500 and 10000)."""
    folder = tmp_path / "raised"
    shutil.copytree(EXAMPLES, folder)
    path = folder / "program.yaml"
    docs = list(yaml.safe_load_all(path.read_text()))
    ladder = docs[0]["spec"]["tiering"]["tiers"]
    thresholds = {"member": 0, "gold": 5000, "platinum": 12000}
    docs[0]["spec"]["tiering"]["tiers"] = [
        {**t, "threshold": thresholds[t["name"]]} for t in ladder
    ]
    path.write_text(yaml.safe_dump_all(docs))
    return folder


@contextlib.asynccontextmanager
async def serving(
    url: str, config_dir: Path = EXAMPLES, *, now: dt.datetime = support.T0
) -> AsyncIterator[support.Service]:
    """The loyalty app on `url` serving the program in `config_dir`, its clock at `now`."""
    clock = support.Clock(now)
    issuer = auth.LocalIssuer(issuer=support.ISSUER, audience=support.AUDIENCE)
    config = Settings(
        database_url=url, config_dir=config_dir, issuer=support.ISSUER,
        audience=support.AUDIENCE, sweep_seconds=3600,
    )  # fmt: skip
    app = main.create_app(config, clock=clock, issuer=issuer)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://loyalty") as client:
            yield support.Service(app, client, issuer, clock)


async def retiered(service: support.Service) -> retiering.Report:
    """The start's re-tiering task, awaited with a deadline."""
    report = await asyncio.wait_for(asyncio.shield(service.app.state.loyalty_retiering), 30)
    assert isinstance(report, retiering.Report)
    return report


async def fund(service: support.Service, member_id: str, points: int) -> None:
    assert (await service.enroll(member_id)).status_code == 201
    for n in range(points // 2000):
        order = support.completed(
            member_id=member_id, order_key=f"order:{member_id}:{n}", amount_minor=30000
        )
        await service.deliver(order)


async def rows(url: str, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    engine = db.engine_from_url(url)
    try:
        async with engine.connect() as connection:
            return [tuple(r) for r in (await connection.execute(query)).all()]
    finally:
        await engine.dispose()


async def tiers_of(url: str) -> dict[str, str | None]:
    members = sa.table("loyalty_members", sa.column("member_id"), sa.column("tier"))
    return dict(await rows(url, sa.select(members.c.member_id, members.c.tier)))


async def tier_events(url: str) -> list[dict[str, Any]]:
    query = sa.select(schema.outbox.c.value).where(
        schema.outbox.c.event_type == payloads.TierChanged.event_type
    )
    return [json.loads(value)["data"] for (value,) in await rows(url, query)]


async def test_raised_thresholds_drop_gold_members_a_tier_with_one_event_each(
    database_url: str, raised: Path
) -> None:
    async with serving(database_url) as service:
        await fund(service, "m-gold", FUNDED)
        await fund(service, "m-low", 2000)
        await retiered(service)
    assert await tiers_of(database_url) == {"m-gold": "gold", "m-low": "member"}
    before = len(await tier_events(database_url))
    async with serving(database_url, raised) as service:
        report = await retiered(service)
    assert (report.members, report.changed, report.done) == (2, 1, True)
    assert await tiers_of(database_url) == {"m-gold": "member", "m-low": "member"}
    new = (await tier_events(database_url))[before:]
    assert [(e["member_id"], e["from_tier"], e["to_tier"]) for e in new] == [
        ("m-gold", "gold", "member")
    ]


async def row_versions(url: str) -> list[tuple[Any, ...]]:
    """PostgreSQL: each member's and state row's `xmin` (any UPDATE changes it); SQLite: none."""
    if not url.startswith("postgresql"):
        return []
    xmin: sa.ColumnClause[str] = sa.literal_column("xmin::text")
    members = sa.table("loyalty_members", sa.column("member_id"))
    return await rows(url, sa.select(members.c.member_id, xmin)) + await rows(
        url, sa.select(retiering.state.c.program, xmin)
    )


async def test_unchanged_program_at_start_writes_nothing(database_url: str) -> None:
    async with serving(database_url) as service:
        await fund(service, "m-gold", FUNDED)
        await retiered(service)
    state = sa.select(retiering.state)
    outbox = sa.select(sa.func.count()).select_from(schema.outbox)

    async def snapshot() -> tuple[Any, ...]:
        return (
            await rows(database_url, state),
            await tiers_of(database_url),
            await rows(database_url, outbox),
            await row_versions(database_url),
        )

    before = await snapshot()
    # A day later: a rewritten state row would carry another `updated_at`.
    async with serving(database_url, now=support.T0 + dt.timedelta(days=1)) as service:
        report = await retiered(service)
    assert report.run is None
    assert await snapshot() == before


async def test_interrupted_run_resumes_after_its_cursor_and_announces_each_change_once(
    database_url: str, raised: Path
) -> None:
    async with serving(database_url) as service:
        for n in range(5):
            await fund(service, f"m-{n}", FUNDED)
        await retiered(service)
    served = program.load(raised)
    engine = db.engine_from_url(database_url)
    sessions = db.sessionmaker_of(engine)
    try:
        run = await retiering.begin(sessions, served, now=support.T0)
        assert run is not None
        first = await retiering.step(sessions, served, run, now=support.T0, batch=2)
        # ... and the replica dies here: the next start goes on after m-1.
        rest = await retiering.retier_all(sessions, served, clock=lambda: support.T0, batch=2)
        again = await retiering.retier_all(sessions, served, clock=lambda: support.T0, batch=2)
    finally:
        await engine.dispose()
    assert (first.members, first.changed, first.done) == (2, 2, False)
    assert (rest.run, rest.members, rest.changed, rest.done) == (run, 3, 3, True)
    assert again.run is None
    moved = [e["member_id"] for e in await tier_events(database_url) if e["to_tier"] == "member"]
    assert sorted(moved) == [f"m-{n}" for n in range(5)]


async def test_run_over_tiers_already_applied_changes_nobody(
    database_url: str, raised: Path
) -> None:
    async with serving(database_url) as service:
        await fund(service, "m-gold", FUNDED)
        await retiered(service)
    async with serving(database_url, raised) as service:
        await retiered(service)
    events, tiers = await tier_events(database_url), await tiers_of(database_url)
    served = program.load(raised)
    engine = db.engine_from_url(database_url)
    try:
        async with db.transaction(db.sessionmaker_of(engine)) as session:
            await session.execute(sa.delete(retiering.state))  # its state lost: a run from scratch
        report = await retiering.retier_all(
            db.sessionmaker_of(engine), served, clock=lambda: support.T0
        )
    finally:
        await engine.dispose()
    assert (report.members, report.changed) == (1, 0)
    assert (await tier_events(database_url), await tiers_of(database_url)) == (events, tiers)


def test_fingerprint_ignores_multipliers_and_follows_thresholds(
    program: specs.LoyaltyProgramSpec,
) -> None:
    tiering = program.tiering
    richer = [t.model_copy(update={"multiplier": t.multiplier + 1}) for t in tiering.tiers]
    higher = [t.model_copy(update={"threshold": t.threshold + 1}) for t in tiering.tiers]
    applied = retiering.fingerprint(tiering)
    assert retiering.fingerprint(tiering.model_copy(update={"tiers": richer})) == applied
    assert retiering.fingerprint(tiering.model_copy(update={"tiers": higher})) != applied
