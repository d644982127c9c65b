"""Test menus and stores shared by the ordering tests (built from the examples' shapes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from qsr_hub.simulators.cms import default_menu
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
    """The example brand's menu, as the CMS simulator serves it (one copy of it in the repo)."""
    return Menu.model_validate(default_menu("store-0001"))
