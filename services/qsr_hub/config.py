"""The hub's view of configuration: stores, programs and the secrets their specs reference.

Read from rendered YAML (the operator's output in a cluster, `examples/` embedded). Secrets come
from Kubernetes Secret documents in the same folder (embedded: the dev-only examples) and are kept
in memory only; nothing here is ever logged.

With `store_topics` set, stores also follow the operator's compacted store topics
(`upsert_store` / `remove_store`). Programs and secret *values* still come from the folder only:
the topic carries secret references by design, never values.
"""

from __future__ import annotations

import base64
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from qsr_hub.settings import HubSettings
from qsr_kit import storefeed
from qsr_kit.domain import specs

log = logging.getLogger(__name__)
# A missing secret re-reads the folder's Secret documents at most this often.
SECRET_RELOAD_S = 1.0


class UnknownStore(LookupError):
    def __init__(self, store_id: str) -> None:
        super().__init__(f"no store {store_id!r} is configured")


class MissingSecret(LookupError):
    def __init__(self, ref: specs.SecretRef) -> None:
        super().__init__(f"secret {ref.name}/{ref.key} is not available")


@dataclass
class Config:
    stores: dict[str, specs.StoreIntegrationSpec] = field(default_factory=dict)
    programs: dict[str, specs.LoyaltyProgramSpec] = field(default_factory=dict)
    secrets: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    folder: Path | None = None
    reloaded_at: float = field(default=-math.inf, repr=False)

    @classmethod
    def from_folder(cls, folder: Path) -> Config:
        config = cls(folder=folder)
        for path in sorted(folder.glob("*.yaml")):
            for doc in yaml.safe_load_all(path.read_text()):
                if not doc:
                    continue
                kind = doc.get("kind")
                if kind == "StoreIntegration":
                    store = specs.StoreIntegrationSpec.model_validate(doc["spec"])
                    config.stores[store.store_id] = store
                elif kind == "LoyaltyProgram":
                    config.programs[doc["metadata"]["name"]] = (
                        specs.LoyaltyProgramSpec.model_validate(doc["spec"])
                    )
                elif kind == "Secret":
                    name = doc["metadata"]["name"]
                    for key, value in (doc.get("stringData") or {}).items():
                        config.secrets[(name, key)] = str(value)
                    for key, value in (doc.get("data") or {}).items():
                        config.secrets[(name, key)] = base64.b64decode(value).decode()
        return config

    def store(self, store_id: str) -> specs.StoreIntegrationSpec:
        found = self.stores.get(store_id)
        if found is None:
            raise UnknownStore(store_id)
        return found

    def upsert_store(self, store: specs.StoreIntegrationSpec) -> None:
        """A store change from the store topic (`qsr_kit.storefeed`), applied without a restart."""
        self.stores[store.store_id] = store

    def remove_store(self, store_id: str) -> None:
        """A tombstone on the store topic: the store is no longer configured."""
        self.stores.pop(store_id, None)

    def program_of(self, store: specs.StoreIntegrationSpec) -> specs.LoyaltyProgramSpec:
        return self.programs[store.program_ref.name]

    def secret(self, ref: specs.SecretRef) -> str:
        value = self.secrets.get((ref.name, ref.key))
        if value is None and self._reload_secrets():
            value = self.secrets.get((ref.name, ref.key))
        if value is None:
            raise MissingSecret(ref)
        return value

    def _reload_secrets(self) -> bool:
        """A store that arrived on the store topic may reference a Secret added after the start
        (a mounted Secret volume is updated in place): re-read the folder's Secrets (rate-limited).
        """
        now = time.monotonic()
        if self.folder is None or now - self.reloaded_at < SECRET_RELOAD_S:
            return False
        self.reloaded_at = now
        try:
            fresh = Config.from_folder(self.folder)
        except Exception as error:  # a volume caught mid-update: the next miss tries again
            log.warning("config: re-reading secrets failed: %s", type(error).__name__)
            return False
        self.secrets.update(fresh.secrets)
        return True

    def reward(self, store: specs.StoreIntegrationSpec, reward_id: str) -> specs.Reward | None:
        program = self.programs.get(store.program_ref.name)
        if program is None:
            return None
        return next((r for r in program.rewards if r.id == reward_id), None)


def store_feed(settings: HubSettings, config: Config) -> storefeed.StoreFeed | None:
    """The feed that keeps `config.stores` on the store topics, when `store_topics` names them."""
    return storefeed.from_settings(
        bootstrap=settings.kafka_bootstrap,
        topics=settings.store_topics,
        upsert=config.upsert_store,
        remove=config.remove_store,
        client_id="qsr-hub-stores",
    )
