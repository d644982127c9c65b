"""Settings of the loyalty service, read from the environment (QSR_LOYALTY_*) at startup."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QSR_LOYALTY_", extra="forbid")

    database_url: str = "sqlite:///./qsr-loyalty.db"
    config_dir: Path = Field(Path("examples"), description="LoyaltyProgram + StoreIntegration YAML")
    program: str | None = Field(None, description="program name when config_dir holds several")
    namespace: str | None = Field(None, description="topic namespace; default: the program's")
    consumer_group: str = "qsr-loyalty"
    consume_batch: bool = Field(True, description="a partition batch per transaction (Kafka)")
    kafka_bootstrap: str | None = Field(None, description="unset: the in-process bus (embedded)")
    consume: bool = Field(True, description="run the order consumers in this process")
    jwks_url: str | None = Field(None, description="unset: a local dev issuer (embedded only)")
    issuer: str = "https://identity.qsr.local"
    audience: str = "qsr-loyalty"
    source: str = "/qsr/loyalty"
    seed: bool = Field(False, description="enroll a few demo members (embedded mode)")
    sweep_seconds: float = Field(30.0, gt=0, description="expiry and hold-release job period")
