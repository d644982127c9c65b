"""Hub settings, read once at startup (env `QSR_HUB_*`); tests construct them directly."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QSR_HUB_", frozen=True)

    database_url: str = "sqlite:///qsr-hub.db"
    # Connections kept, and as many again on demand (requests, resumer, POS worker, relay).
    db_pool_size: int = 10
    # The POS webhook route's own connections (and as many again on demand): a webhook never
    # waits behind checkouts, the resumer, the POS worker, the relay or the consumer.
    pos_ingest_pool_size: int = 2
    # The saga store's connections (and as many again): one autocommitted statement per saga
    # write on PostgreSQL (saga_store.engine_of).
    saga_pool_size: int = 5
    config_dir: Path = Path("examples")  # StoreIntegration, LoyaltyProgram, Secret YAML
    namespace: str = "default"
    ordering_url: str = "http://127.0.0.1:8083"
    loyalty_url: str = "http://127.0.0.1:8082"
    cms_url: str = "http://127.0.0.1:8091"
    payments_url: str = "http://127.0.0.1:8092"
    external_loyalty_url: str = (
        "http://127.0.0.1:8093"  # used when a program's provider is external
    )
    issuer: str = "http://127.0.0.1:8081"
    audience: str = "qsr-platform"
    jwks_url: str | None = None
    token_url: str | None = None
    client_id: str = "qsr-hub"
    client_secret: SecretStr | None = None
    kafka_bootstrap: str | None = None
    # Compacted store topics to follow (comma-separated, `qsr.<namespace>.<program>.stores`):
    # store changes apply without a restart; needs kafka_bootstrap. Programs and secrets: files.
    store_topics: str = ""
    spoke_timeout_seconds: float = 2.0
    breaker_open_seconds: float = 10.0
    saga_lease_seconds: float = 30.0
    saga_retry_seconds: float = 5.0
    resume_every_seconds: float = 1.0
    migrate: bool = True
