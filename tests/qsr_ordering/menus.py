"""Test menus and stores shared by the ordering tests (built from the examples' shapes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from qsr_kit.domain import specs
from qsr_ordering.domain.menu import Menu

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example_store(store_id: str = "store-0001", **changes: Any) -> specs.StoreIntegrationSpec:
    for doc in yaml.safe_load_all((EXAMPLES / "stores.yaml").read_text()):
        if doc and doc["spec"]["storeId"] == store_id:
            store = specs.StoreIntegrationSpec.model_validate(doc["spec"])
            return store.model_copy(update=changes)
    raise LookupError(store_id)


def sample_menu() -> Menu:
    return Menu.model_validate(
        {
            "storeId": "store-0001",
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
                {
                    "sku": "fries-large",
                    "name": "Large fries",
                    "category": "sides",
                    "priceMinor": 399,
                },
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
    )
