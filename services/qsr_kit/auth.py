"""Access-token verification and authorization for every service (FastAPI deps, JWKS fetch).

Wire it in a lifespan or app factory, then declare what each route needs:

    auth.install(app, auth.Verifier.remote(jwks_url, client=http, issuer=ISS, audience=AUD))
    async def balance(member_id: str, who: Annotated[auth.Principal, auth.requires("pts:read")]):
        auth.ensure_can_act_for_member(who, member_id)  # guests: only themselves; services: anyone

Embedded mode and tests: `auth.Verifier.static(local_issuer.jwks(), issuer=ISS, audience=AUD)`.
401 (bad/missing token, with WWW-Authenticate) and 403 (scope or object) are RFC 9457 problem+json.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Protocol

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from qsr_kit.domain import auth_principal, auth_tokens
from qsr_kit.domain.auth_principal import (
    AuthError,
    ClaimRules,
    NotYourObject,
    Principal,
    ScopeMissing,
    TokenRejected,
    UnknownKey,
)
from qsr_kit.domain.auth_tokens import LocalIssuer, PinnedKey

__all__ = [
    "AuthError",
    "AuthProblem",
    "ClaimRules",
    "CurrentPrincipal",
    "HttpJwks",
    "JwksUnavailable",
    "LocalIssuer",
    "NotYourObject",
    "Principal",
    "ScopeMissing",
    "StaticJwks",
    "TokenRejected",
    "Verifier",
    "ensure_can_act_for_member",
    "ensure_can_act_for_store",
    "install",
    "requires",
]

log = logging.getLogger(__name__)
Clock = Callable[[], float]
REALM = "qsr"


class JwksUnavailable(AuthError):
    """The key set could not be fetched and none is cached (→ 503; the token is not judged)."""


class JwksSource(Protocol):
    async def keys(self) -> Mapping[str, PinnedKey]: ...

    async def keys_after_unknown_kid(self) -> Mapping[str, PinnedKey]: ...


class StaticJwks:
    """A fixed key set (embedded mode, tests): no HTTP."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys = auth_tokens.pinned_keys(jwks)

    async def keys(self) -> Mapping[str, PinnedKey]:
        return self._keys

    async def keys_after_unknown_kid(self) -> Mapping[str, PinnedKey]:
        return self._keys


class HttpJwks:
    """A JWKS fetched over HTTP, cached for `ttl_seconds`, refetched on an unknown kid at most once
    per `min_refetch_seconds` (so a flood of made-up kids cannot turn into a flood of fetches)."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient,
        ttl_seconds: float = 300.0,
        min_refetch_seconds: float = 10.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.url = url
        self._client = client
        self._ttl = ttl_seconds
        self._min_refetch = min_refetch_seconds
        self._clock = clock
        self._keys: dict[str, PinnedKey] | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetch_count = 0

    async def keys(self) -> Mapping[str, PinnedKey]:
        if self._keys is None or self._clock() - self._fetched_at >= self._ttl:
            await self._refresh(min_age=0.0 if self._keys is None else self._ttl)
        assert self._keys is not None
        return self._keys

    async def keys_after_unknown_kid(self) -> Mapping[str, PinnedKey]:
        await self._refresh(min_age=self._min_refetch)
        assert self._keys is not None
        return self._keys

    async def _refresh(self, *, min_age: float) -> None:
        async with self._lock:
            # Re-check under the lock: concurrent callers share one fetch.
            if self._keys is not None and self._clock() - self._fetched_at < min_age:
                return
            try:
                self.fetch_count += 1
                response = await self._client.get(self.url, timeout=5.0)
                response.raise_for_status()
                body = response.json()
                if not isinstance(body, dict):
                    raise ValueError("JWKS is not a JSON object")
            except (httpx.HTTPError, ValueError) as error:
                self._fetched_at = (
                    self._clock()
                )  # also rate-limits retries against a failing endpoint
                if self._keys is None:
                    raise JwksUnavailable(f"JWKS at {self.url} unavailable") from error
                log.warning(
                    "JWKS refresh from %s failed (%s); keeping cached keys", self.url, error
                )
                return
            self._keys = auth_tokens.pinned_keys(body)
            self._fetched_at = self._clock()


class Verifier:
    """Checks a bearer token: signature by a pinned key, typ, iss, aud, exp/nbf/iat with skew."""

    def __init__(self, source: JwksSource, *, rules: ClaimRules, clock: Clock = time.time) -> None:
        self.source = source
        self.rules = rules
        self._clock = clock

    @classmethod
    def static(
        cls, jwks: Mapping[str, Any], *, issuer: str, audience: str, clock: Clock = time.time
    ) -> Verifier:
        return cls(
            StaticJwks(jwks), rules=ClaimRules(issuer=issuer, audience=audience), clock=clock
        )

    @classmethod
    def remote(
        cls,
        jwks_url: str,
        *,
        client: httpx.AsyncClient,
        issuer: str,
        audience: str,
        clock: Clock = time.time,
    ) -> Verifier:
        source = HttpJwks(jwks_url, client=client)
        return cls(source, rules=ClaimRules(issuer=issuer, audience=audience), clock=clock)

    async def verified_claims(self, token: str) -> dict[str, Any]:
        keys = await self.source.keys()
        try:
            header, claims = auth_tokens.verified_token(token, keys)
        except UnknownKey:
            header, claims = auth_tokens.verified_token(
                token, await self.source.keys_after_unknown_kid()
            )
        auth_principal.check_header(header, rules=self.rules)
        auth_principal.check_claims(claims, rules=self.rules, now=self._clock())
        return claims

    async def verify(self, token: str) -> Principal:
        return auth_principal.principal_from_claims(await self.verified_claims(token))


# --- FastAPI wiring -------------------------------------------------------------------------


class AuthProblem(HTTPException):
    """An auth refusal as an HTTP error: its status and headers (WWW-Authenticate, Retry-After)
    survive any HTTPException handler, so the answer is right even where `install` registered no
    handler in time (an `install` inside a lifespan); with the handler it is full problem+json."""

    def __init__(self, error: AuthError, *, token_sent: bool = True) -> None:
        status, self.title, self.slug, headers = _refusal(error, token_sent=token_sent)
        super().__init__(status_code=status, detail=str(error), headers=headers)


def install(app: FastAPI, verifier: Verifier) -> None:
    """Make `verifier` the app's and render auth refusals as problem+json.

    Call it in the app factory: Starlette fixes its exception handlers on the first ASGI call,
    which is the lifespan startup. (`app.state.qsr_verifier` may be replaced later.)
    """
    app.state.qsr_verifier = verifier
    app.add_exception_handler(AuthProblem, _problem_response)
    app.add_exception_handler(AuthError, _problem_response)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if header is None:
        raise TokenRejected("no bearer token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("authorization is not a bearer token")
    return token.strip()


async def current_principal(request: Request) -> Principal:
    verifier: Verifier | None = getattr(request.app.state, "qsr_verifier", None)
    if verifier is None:
        raise RuntimeError("qsr_kit.auth.install(app, verifier) was not called")
    try:
        return await verifier.verify(bearer_token(request))
    except AuthError as error:
        token_sent = request.headers.get("authorization") is not None
        raise AuthProblem(error, token_sent=token_sent) from error


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def requires(*scopes: str) -> Any:
    """A dependency giving the principal once it holds every scope in `scopes` (403 if not)."""

    async def principal_with_scopes(principal: CurrentPrincipal) -> Principal:
        try:
            auth_principal.ensure_scopes(principal, scopes)
        except ScopeMissing as error:
            raise AuthProblem(error) from error
        return principal

    return Depends(principal_with_scopes)


def ensure_can_act_for_member(principal: Principal, member_id: str) -> None:
    """403 unless a guest acts for their own member or a service acts (OWASP API1)."""
    try:
        auth_principal.ensure_can_act_for_member(principal, member_id)
    except NotYourObject as error:
        raise AuthProblem(error) from error


def ensure_can_act_for_store(principal: Principal, store_id: str) -> None:
    """403 unless staff act for one of their stores or a service acts."""
    try:
        auth_principal.ensure_can_act_for_store(principal, store_id)
    except NotYourObject as error:
        raise AuthProblem(error) from error


def _refusal(error: Exception, *, token_sent: bool) -> tuple[int, str, str, dict[str, str]]:
    """(status, title, problem slug, headers) of an auth refusal (RFC 6750 §3 challenges)."""
    if isinstance(error, TokenRejected):
        challenge = f'Bearer realm="{REALM}"'
        if token_sent:
            challenge += f', error="invalid_token", error_description="{error.reason}"'
        return 401, "Unauthorized", "invalid-token", {"WWW-Authenticate": challenge}
    if isinstance(error, ScopeMissing):
        scope = " ".join(sorted(error.missing))
        challenge = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
        return 403, "Forbidden", "insufficient-scope", {"WWW-Authenticate": challenge}
    if isinstance(error, NotYourObject):
        return 403, "Forbidden", "forbidden", {}
    return 503, "Service Unavailable", "auth-unavailable", {"Retry-After": "5"}


def _problem_response(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, AuthProblem):
        status, title, slug, headers = error.status_code, error.title, error.slug, error.headers
    else:
        token_sent = request.headers.get("authorization") is not None
        status, title, slug, headers = _refusal(error, token_sent=token_sent)
    body = {
        "type": f"https://qsr.io/problems/{slug}",
        "title": title,
        "status": status,
        "detail": str(error.detail if isinstance(error, AuthProblem) else error),
    }
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )
