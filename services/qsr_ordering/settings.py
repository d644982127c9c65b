"""Ordering settings, read once at startup (env `QSR_ORDERING_*`); tests construct them directly."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class OrderingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QSR_ORDERING_", frozen=True)

    database_url: str = "sqlite:///qsr-ordering.db"
    db_pool_size: int = 10  # connections kept, and as many again on demand
    config_dir: Path = Path("examples")  # rendered StoreIntegration YAML
    menu_url: str = "http://127.0.0.1:8091"
    menu_ttl_seconds: float = 30.0
    namespace: str = "default"
    issuer: str = "http://127.0.0.1:8081"
    audience: str = "qsr-platform"
    jwks_url: str | None = None
    kafka_bootstrap: str | None = None
    # Compacted store topics to follow (comma-separated, `qsr.<namespace>.<program>.stores`):
    # store changes apply without a restart; needs kafka_bootstrap. Empty: config_dir only.
    store_topics: str = ""
    migrate: bool = True
