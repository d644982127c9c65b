"""Menu spoke contract: menus by store, a short-TTL cache, stale copies while the CMS is down."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from qsr_hub.spokes import ports
from qsr_hub.spokes.guard import Guard, Policy
from qsr_hub.spokes.menu_http import CmsMenus
from tests.qsr_hub.sims import FakeClock, Simulator

FAST = Policy(timeout=0.5, attempts=2, base_delay=0.01, max_delay=0.02)


@pytest.fixture
async def menus(
    cms_sim: Simulator, http: httpx.AsyncClient, clock: FakeClock
) -> AsyncIterator[CmsMenus]:
    await cms_sim.clear(http)
    yield CmsMenus(
        http, base_url=cms_sim.url, guard=Guard("cms", FAST), ttl=30, max_stale=300, clock=clock
    )
    await cms_sim.clear(http)


async def test_a_store_menu_is_served_with_its_prices(menus: CmsMenus) -> None:
    menu = await menus.menu_of("store-0002")
    assert menu["storeId"] == "store-0002"
    assert {i["sku"] for i in menu["items"]} >= {"chicken-sandwich", "fries-large", "drink-medium"}


async def test_a_menu_is_read_once_within_its_ttl_and_again_after(
    menus: CmsMenus, cms_sim: Simulator, clock: FakeClock
) -> None:
    before = cms_sim.sim.reads
    await menus.menu_of("store-0001")
    clock.now += 29
    await menus.menu_of("store-0001")
    assert cms_sim.sim.reads == before + 1
    clock.now += 2
    await menus.menu_of("store-0001")
    assert cms_sim.sim.reads == before + 2


async def test_a_stale_menu_is_served_while_the_cms_is_down(
    menus: CmsMenus, cms_sim: Simulator, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    fresh = await menus.menu_of("store-0003")
    await cms_sim.arm(http, kind="error")
    clock.now += 60
    assert await menus.menu_of("store-0003") == fresh
    clock.now += 600
    with pytest.raises(ports.SpokeUnavailable):
        await menus.menu_of("store-0003")


async def test_an_unknown_store_is_refused(menus: CmsMenus) -> None:
    with pytest.raises(ports.SpokeRefused):
        await menus.menu_of("store-9999")
