"""A menu/CMS: each store's menu with dayparts, modifiers, combos and prices, versioned.

`PUT /_menus/{store_id}` replaces a menu (tests use it to watch the hub's short-TTL cache expire).
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from qsr_hub.simulators.control import control_router
from qsr_hub.simulators.faults import ASGIApp, Faults

_BASE_MENU: dict[str, Any] = {
    "version": "2026-11-25.1",
    "currency": "USD",
    "dayparts": [
        {"name": "breakfast", "start": "06:00", "end": "10:30"},
        {"name": "late-night", "start": "22:00", "end": "02:00"},
    ],
    "items": [
        {
            "sku": "chicken-sandwich",
            "name": "Chicken Sandwich",
            "category": "mains",
            "priceMinor": 699,
            "modifierGroups": [
                {
                    "id": "sauce",
                    "name": "Sauce",
                    "minChoices": 0,
                    "maxChoices": 2,
                    "options": [
                        {"id": "spicy-mayo", "name": "Spicy mayo", "priceMinor": 50},
                        {"id": "honey", "name": "Honey", "priceMinor": 0},
                    ],
                }
            ],
        },
        {"sku": "fries-large", "name": "Large fries", "category": "sides", "priceMinor": 399},
        {
            "sku": "drink-medium",
            "name": "Medium drink",
            "category": "beverages",
            "priceMinor": 249,
            "modifierGroups": [
                {
                    "id": "flavour",
                    "name": "Flavour",
                    "minChoices": 1,
                    "maxChoices": 1,
                    "options": [
                        {"id": "cola", "name": "Cola"},
                        {"id": "lemonade", "name": "Lemonade", "priceMinor": 30},
                    ],
                }
            ],
        },
        {
            "sku": "biscuit",
            "name": "Breakfast biscuit",
            "category": "mains",
            "priceMinor": 349,
            "dayparts": ["breakfast"],
        },
        {
            "sku": "midnight-wings",
            "name": "Midnight wings",
            "category": "mains",
            "priceMinor": 899,
            "dayparts": ["late-night"],
        },
    ],
    "combos": [
        {
            "sku": "combo-family",
            "name": "Family combo",
            "priceMinor": 2499,
            "components": ["chicken-sandwich", "fries-large", "drink-medium"],
        }
    ],
}


def default_menu(store_id: str) -> dict[str, Any]:
    """The example brand's menu for a store (camelCase JSON, as the CMS serves it)."""
    return {"storeId": store_id, **copy.deepcopy(_BASE_MENU)}


class Cms:
    def __init__(self, store_ids: tuple[str, ...] = ()) -> None:
        self.menus: dict[str, dict[str, Any]] = {s: default_menu(s) for s in store_ids}
        self.reads = 0
        self.faults = Faults()

    def state(self) -> dict[str, Any]:
        return {"reads": self.reads, "stores": sorted(self.menus)}


def create_app(cms: Cms | None = None) -> ASGIApp:
    sim = cms or Cms(("store-0001", "store-0002", "store-0003"))
    app = FastAPI(title="menu/CMS simulator")
    app.state.sim = sim
    app.include_router(control_router(sim.faults, state=sim.state))

    @app.get("/v1/stores/{store_id}/menu")
    async def menu(store_id: str) -> JSONResponse:
        sim.reads += 1
        found = sim.menus.get(store_id)
        if found is None:
            return JSONResponse({"error": "unknown store"}, status_code=404)
        return JSONResponse(found, headers={"ETag": f'"{found["version"]}"'})

    @app.put("/_menus/{store_id}", status_code=204)
    async def replace(store_id: str, menu: dict[str, Any]) -> None:
        sim.menus[store_id] = menu

    return sim.faults.middleware(app)
