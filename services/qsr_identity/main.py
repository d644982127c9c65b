"""App factory for `qsr serve identity`: settings → lifespan-owned storage, keys, client, routes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response

from qsr_identity import api_accounts, api_oauth, edge, sealing, seeding, signing_in
from qsr_identity.deps import Identity
from qsr_identity.domain import accounts, oauth
from qsr_identity.domain.passwords import Argon2Params, Passwords
from qsr_identity.federation import Federation, FederationUnavailable
from qsr_identity.keystore import Keystore
from qsr_identity.repository import Client, Repository
from qsr_identity.sealing import Sealer
from qsr_identity.settings import IdentitySettings
from qsr_kit import auth, http, ratelimit
from qsr_kit.domain import auth_tokens
from qsr_kit.domain.auth_tokens import PinnedKey


class KeystoreJwks:
    """The identity service verifies its own tokens against its live key schedule (no HTTP)."""

    def __init__(self, app: FastAPI, clock: Callable[[], float]) -> None:
        self._app = app
        self._clock = clock

    async def keys(self) -> Mapping[str, PinnedKey]:
        keystore: Keystore = self._app.state.identity.keystore
        return auth_tokens.pinned_keys(await keystore.jwks(now=self._clock()))

    async def keys_after_unknown_kid(self) -> Mapping[str, PinnedKey]:
        return await self.keys()


def create_app(
    settings: IdentitySettings | None = None, *, clock: Callable[[], float] = time.time
) -> FastAPI:
    config = settings or IdentitySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        repository = Repository.connect(config.database_url)
        limiter = None
        if config.redis_url is not None:
            limiter = ratelimit.Limiter.from_url(
                config.redis_url,
                prefix=config.redis_prefix,
                clock=clock,
                timeout_seconds=config.redis_timeout_seconds,
            )
        try:  # closed however startup or shutdown ends
            async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
                app.state.identity = await _started(config, repository, client, clock)
                app.state.qsr_limiter = limiter
                http.add_readiness_check(app, "db", repository.ping)
                yield
        finally:
            if limiter is not None:
                await limiter.close()
            await repository.close()

    docs: dict[str, Any] = {} if config.expose_docs else {"docs_url": None, "redoc_url": None}
    app = http.service_app(
        title="qsr identity",
        lifespan=lifespan,
        domain_errors={
            signing_in.InvalidCredentials: 401,
            signing_in.AccountExists: 409,
            api_accounts.UnknownAccount: 404,
            FederationUnavailable: 503,
        },
        **docs,
    )
    # Handlers are registered here, not in the lifespan: Starlette builds its middleware stack
    # (and with it the handler table) on the first ASGI call, which is the lifespan itself.
    rules = auth.ClaimRules(issuer=config.issuer, audience=config.audience)
    auth.install(app, auth.Verifier(KeystoreJwks(app, clock), rules=rules, clock=clock))
    ratelimit.install(app, None)
    app.add_exception_handler(oauth.OAuthError, _oauth_error)
    app.add_exception_handler(accounts.InvalidField, _invalid_field)
    app.include_router(api_oauth.router)
    app.include_router(api_accounts.router)
    app.add_middleware(edge.BodyLimit, max_bytes=config.max_body_bytes)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(edge.SecurityHeaders)
    return app


async def _started(
    config: IdentitySettings,
    repository: Repository,
    client: httpx.AsyncClient,
    clock: Callable[[], float],
) -> Identity:
    """Schema, keys (a wrong key-encryption key fails here), clients and demo data."""
    await repository.create_schema()
    kek = config.key_encryption_key
    keystore = Keystore(
        repository,
        publish_ahead_seconds=config.key_publish_ahead_seconds,
        grace_seconds=config.access_token_seconds + config.clock_skew_seconds,
        sealer=Sealer(sealing.decoded_kek(kek.get_secret_value()) if kek else None),
    )
    await keystore.ensure_key(now=clock())
    await keystore.jwks(now=clock())
    params = Argon2Params(
        config.argon2_time_cost, config.argon2_memory_kib, config.argon2_parallelism
    )
    identity = Identity(
        settings=config,
        repository=repository,
        keystore=keystore,
        passwords=Passwords(params),
        federation=Federation(config.federation, client=client, clock=clock),
        clock=clock,
    )
    await seed_clients(identity)
    if config.seed_demo:
        await seeding.seed_demo(
            identity, member_id=config.demo_member_id, store_ids=config.demo_store_ids
        )
    return identity


async def seed_clients(identity: Identity) -> None:
    async with identity.repository.transaction() as conn:
        for seed in identity.settings.clients:
            secret = seed.secret.get_secret_value() if seed.secret is not None else None
            client = Client(
                client_id=seed.client_id,
                secret_hash=oauth.token_hash(secret) if secret is not None else None,
                redirect_uris=seed.redirect_uris,
                scopes=frozenset(seed.scopes),
            )
            await Repository.put_client(conn, client, now=identity.clock())


def _oauth_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, oauth.OAuthError)
    body = {
        "type": f"https://qsr.io/problems/oauth-{error.error.replace('_', '-')}",
        "title": "OAuth error",
        "status": error.status,
        "detail": error.description,
        "error": error.error,  # RFC 6749 §5.2 members, so stock OAuth clients understand it
        "error_description": error.description,
    }
    headers = {"Cache-Control": "no-store"}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="qsr"'
    return JSONResponse(
        body, status_code=error.status, headers=headers, media_type=http.PROBLEM_JSON
    )


def _invalid_field(request: Request, error: Exception) -> Response:
    assert isinstance(error, accounts.InvalidField)
    return http.problem(
        422,
        title="Unprocessable Content",
        detail=str(error),
        errors=[{"field": error.field, "message": str(error)}],
    )
