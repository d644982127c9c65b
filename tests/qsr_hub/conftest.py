"""Simulators of the outside systems, each on real HTTP on 127.0.0.1, one per test session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qsr_hub.simulators import cardsim, cms, paytronix
from qsr_hub.simulators.serving import Server
from tests.qsr_hub.platform import Platform, on_sqlite
from tests.qsr_hub.sims import FakeClock, Simulator


def _serve(app: Any, sim: Any, name: str) -> Iterator[Simulator]:
    with Server(app, name=name) as server:
        yield Simulator(url=server.url, sim=sim)


@pytest.fixture(scope="session")
def card_processor() -> Iterator[Simulator]:
    sim = cardsim.CardProcessor()
    yield from _serve(cardsim.create_app(sim), sim, "cardsim")


@pytest.fixture(scope="session")
def cms_sim() -> Iterator[Simulator]:
    sim = cms.Cms(("store-0001", "store-0002", "store-0003"))
    yield from _serve(cms.create_app(sim), sim, "cms")


@pytest.fixture(scope="session")
def paytronix_sim() -> Iterator[Simulator]:
    sim = paytronix.Provider()
    yield from _serve(paytronix.create_app(sim), sim, "paytronix")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def platform(
    tmp_path: Path,
    cms_sim: Simulator,
    card_processor: Simulator,
    paytronix_sim: Simulator,
    http: httpx.AsyncClient,
) -> AsyncIterator[Platform]:
    async with on_sqlite(
        tmp_path, cms=cms_sim, cards=card_processor, loyalty=paytronix_sim, http=http
    ) as running_platform:
        yield running_platform
