"""Operator settings, read once at startup from `QSR_OPERATOR_*` variables and passed down.

Tests build `Settings(...)` directly; nothing reads the environment after startup.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="QSR_OPERATOR_", frozen=True, populate_by_name=True
    )

    # Also the names `qsr dev stack env` exports, so `qsr dev cluster` needs no extra variables.
    kafka_bootstrap: str = Field(
        description="Kafka the operator manages topics in",
        validation_alias=AliasChoices("QSR_OPERATOR_KAFKA_BOOTSTRAP", "QSR_KAFKA_BOOTSTRAP"),
    )
    service_kafka_bootstrap: str | None = Field(
        default=None, description="Kafka address given to the services (default: kafka_bootstrap)"
    )
    loyalty_service_account: str = Field(
        default="qsr-loyalty",
        min_length=1,
        description="service account of the loyalty pods (the chart creates it with the IRSA role)",
    )
    kubeconfig: Path | None = Field(
        default=None,
        description="None: in-cluster service account",
        validation_alias=AliasChoices("QSR_OPERATOR_KUBECONFIG", "KUBECONFIG"),
    )
    namespaces: list[str] = Field(default_factory=list, description="globs; empty: cluster-wide")
    resync_seconds: float = Field(default=60.0, gt=0, description="periodic full reconcile")
    retry_seconds: float = Field(default=10.0, gt=0, description="delay after a temporary error")
    delete_timeout_seconds: float = Field(
        default=300.0, gt=0, description="give up deleting topics (Kafka gone) after this"
    )
    store_workers: int = Field(
        default=32, ge=1, description="StoreIntegrations reconciled at once (the work queue's pool)"
    )
    secret_cache_seconds: float = Field(
        default=10.0, ge=0, description="how long a found Secret's key names are reused (0: never)"
    )
    api_qps: float = Field(default=20.0, gt=0)
    api_burst: int = Field(default=40, ge=1)
    liveness_endpoint: str | None = "http://127.0.0.1:8081/healthz"
    metrics_address: str = "127.0.0.1"
    metrics_port: int | None = 9090

    @property
    def bootstrap_for_services(self) -> str:
        return self.service_kafka_bootstrap or self.kafka_bootstrap
