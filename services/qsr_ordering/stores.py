"""Store configuration as the services read it: StoreIntegration specs from rendered YAML.

Embedded mode reads `examples/`; in a cluster `store_topics` names the program store topics the
operator publishes to, and `qsr_kit.storefeed` applies each change here (`replace`, `remove`)
without a restart; one event loop mutates the dict between awaits, so no lock is needed.
Only the `spec` matters to services; programs are read the same way.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from qsr_kit.domain import specs


class UnknownStore(LookupError):
    def __init__(self, store_id: str) -> None:
        super().__init__(f"no store {store_id!r} is configured")
        self.store_id = store_id


class Stores:
    def __init__(self, stores: dict[str, specs.StoreIntegrationSpec]) -> None:
        self._stores = stores

    @classmethod
    def from_folder(cls, folder: Path) -> Stores:
        found: dict[str, specs.StoreIntegrationSpec] = {}
        for path in sorted(folder.glob("*.yaml")):
            for doc in yaml.safe_load_all(path.read_text()):
                if doc and doc.get("kind") == "StoreIntegration":
                    store = specs.StoreIntegrationSpec.model_validate(doc["spec"])
                    found[store.store_id] = store
        return cls(found)

    def get(self, store_id: str) -> specs.StoreIntegrationSpec:
        store = self._stores.get(store_id)
        if store is None:
            raise UnknownStore(store_id)
        return store

    def replace(self, store: specs.StoreIntegrationSpec) -> None:
        """A changed StoreIntegration takes effect without a restart."""
        self._stores[store.store_id] = store

    def remove(self, store_id: str) -> None:
        """A deleted StoreIntegration (a tombstone on the store topic): its orders are refused."""
        self._stores.pop(store_id, None)

    def all(self) -> tuple[specs.StoreIntegrationSpec, ...]:
        return tuple(self._stores.values())
