"""Identity settings, read once at startup (env `QSR_IDENTITY_*`); tests construct them directly."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from qsr_identity import sealing


class ExternalIssuer(BaseModel):
    """A brand's existing OIDC provider whose ID tokens may be exchanged for ours (federation)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str
    jwks_url: str  # configured here, never taken from a token (RFC 8725 §3.10, OWASP API7)
    audience: str  # the client id this platform has at that provider


class SeedClient(BaseModel):
    """A client registered at startup: a service (secret) or an app (redirect URIs, no secret)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str
    secret: SecretStr | None = None
    redirect_uris: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="QSR_IDENTITY_", env_nested_delimiter="__", extra="forbid"
    )

    issuer: str = "http://127.0.0.1:8080"
    audience: str = "qsr-platform"
    database_url: str = "sqlite:///./qsr-identity.db"
    redis_url: str | None = None  # None (embedded mode): no rate limits
    redis_prefix: str = "qsr:rl"
    # A slow Redis must not make requests slow: past this, each policy's fail mode decides.
    redis_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    access_token_seconds: int = Field(default=600, ge=60, le=3600)
    refresh_token_seconds: int = Field(default=14 * 86400, ge=60)
    refresh_family_seconds: int = Field(default=90 * 86400, ge=60)
    code_seconds: int = Field(default=60, ge=10, le=600)
    # >= the verifiers' JWKS cache TTL, so every verifier knows a key before it signs anything.
    key_publish_ahead_seconds: int = Field(default=300, ge=0)
    clock_skew_seconds: int = 30
    # base64url of 32 random bytes; seals private signing keys at rest (sealing.py). Unset: plain.
    key_encryption_key: SecretStr | None = None
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19_456, ge=8)
    argon2_parallelism: int = Field(default=1, ge=1)
    max_body_bytes: int = Field(default=131_072, ge=1024)
    cors_origins: tuple[str, ...] = ()
    expose_docs: bool = False  # Swagger UI off by default (OWASP API8); /openapi.json stays public
    federation: tuple[ExternalIssuer, ...] = ()
    clients: tuple[SeedClient, ...] = ()
    # Embedded mode only: demo guest (acting for `demo_member_id`) and staff (for `demo_store_ids`).
    seed_demo: bool = False
    demo_member_id: str | None = None
    demo_store_ids: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _kek_is_32_bytes(self) -> IdentitySettings:
        if self.key_encryption_key is not None:
            sealing.decoded_kek(self.key_encryption_key.get_secret_value())
        return self

    @model_validator(mode="after")
    def _demo_only_on_sqlite(self) -> IdentitySettings:
        if self.seed_demo and not self.database_url.startswith("sqlite"):
            raise ValueError("seed_demo: demo accounts are for the embedded (SQLite) mode only")
        return self
