"""Token-bucket rate limits (Stripe's request limiter) in Redis, per principal, IP or any key.

One atomic Lua script per check, so concurrent replicas share one bucket. Each `Policy` says what
happens while Redis is down: fail open (customer-facing reads keep working, a warning is logged)
or fail closed (abuse-sensitive flows — sign-in, sign-up, redemption — answer 503).

    limits = ratelimit.Limiter.from_url(settings.redis_url)   # in the lifespan; `.close()` there
    ratelimit.install(app, limits)
    async def redeem(..., _: Annotated[None, ratelimit.per_principal(REDEEM)]): ...
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from qsr_kit import auth

log = logging.getLogger(__name__)
Clock = Callable[[], float]

# KEYS[1] bucket; ARGV capacity, refill per second, cost, now. Returns {allowed, tokens, retry}.
_BUCKET_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then tokens = capacity; ts = now end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(math.max(now, ts)))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, tostring(tokens), tostring(retry)}
"""


@dataclasses.dataclass(frozen=True)
class Policy:
    """`capacity` requests at once, refilled at `per_second`; `fail_open` decides Redis outages."""

    name: str
    capacity: int
    per_second: float
    fail_open: bool


@dataclasses.dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after_seconds: int


class RateLimited(HTTPException):
    """Over the limit: 429 with Retry-After (an HTTPException, so any HTTP error handler keeps the
    status and header even where `install` was not called)."""

    def __init__(self, policy: Policy, retry_after_seconds: int) -> None:
        detail = f"rate limit {policy.name!r} exceeded; retry in {retry_after_seconds} s"
        super().__init__(429, detail=detail, headers={"Retry-After": str(retry_after_seconds)})
        self.retry_after_seconds = retry_after_seconds

    def __str__(self) -> str:
        return str(self.detail)


class LimiterUnavailable(HTTPException):
    """Redis is unreachable and the policy fails closed: 503 with Retry-After."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, detail=detail, headers={"Retry-After": "5"})

    def __str__(self) -> str:
        return str(self.detail)


class Limiter:
    def __init__(
        self, client: aioredis.Redis, *, prefix: str = "qsr:rl", clock: Clock = time.time
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._clock = clock
        self._script = client.register_script(_BUCKET_LUA)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "qsr:rl",
        clock: Clock = time.time,
        timeout_seconds: float = 0.25,
    ) -> Limiter:
        # Short timeouts: a slow Redis must not turn into slow requests for fail-open routes.
        client = aioredis.Redis.from_url(
            url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
        )
        return cls(client, prefix=prefix, clock=clock)

    async def close(self) -> None:
        await self._redis.aclose()

    async def take(self, policy: Policy, key: str, *, cost: int = 1) -> Decision:
        """One check-and-take; raises RedisError when Redis cannot answer."""
        bucket = f"{self._prefix}:{policy.name}:{key}"
        args: list[int | float | str] = [
            policy.capacity,
            policy.per_second,
            cost,
            repr(self._clock()),
        ]
        allowed, tokens, retry = await self._script(keys=[bucket], args=args)
        return Decision(
            allowed=int(allowed) == 1,
            remaining=int(float(tokens)),
            retry_after_seconds=max(1, math.ceil(float(retry))) if int(allowed) != 1 else 0,
        )

    async def enforce(self, policy: Policy, key: str, *, cost: int = 1) -> None:
        """Raise RateLimited over the limit; on a Redis failure follow the policy's fail mode."""
        try:
            decision = await self.take(policy, key, cost=cost)
        except (RedisError, OSError) as error:
            if policy.fail_open:
                log.warning(
                    "rate limiter down, %s fails open: %s", policy.name, type(error).__name__
                )
                return
            raise LimiterUnavailable(f"rate limiter unavailable for {policy.name}") from error
        if not decision.allowed:
            raise RateLimited(policy, decision.retry_after_seconds)


def hashed(value: str) -> str:
    """Bucket keys from personal data (e-mail, phone) are hashed: no PII in Redis."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


def client_ip(request: Request) -> str:
    # Behind a load balancer, uvicorn's --proxy-headers/--forwarded-allow-ips set request.client.
    return request.client.host if request.client is not None else "unknown"


async def enforce(request: Request, policy: Policy, key: str, *, cost: int = 1) -> None:
    """Check `policy` for `key` with the app's limiter; no limiter installed means no limits."""
    limiter: Limiter | None = getattr(request.app.state, "qsr_limiter", None)
    if limiter is not None:
        await limiter.enforce(policy, key, cost=cost)


def per_ip(policy: Policy) -> Any:
    async def limited_by_ip(request: Request) -> None:
        await enforce(request, policy, f"ip:{client_ip(request)}")

    return Depends(limited_by_ip)


def per_principal(policy: Policy) -> Any:
    async def limited_by_principal(request: Request, principal: auth.CurrentPrincipal) -> None:
        await enforce(request, policy, f"sub:{principal.kind}:{principal.subject}")

    return Depends(limited_by_principal)


def install(app: FastAPI, limiter: Limiter | None) -> None:
    app.state.qsr_limiter = limiter
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(LimiterUnavailable, _unavailable)


def _rate_limited(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RateLimited)
    retry = str(error.retry_after_seconds)
    return _problem(429, "Too Many Requests", str(error), retry)


def _unavailable(request: Request, error: Exception) -> JSONResponse:
    return _problem(503, "Service Unavailable", str(error), "5")


def _problem(status: int, title: str, detail: str, retry_after: str) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    headers = {"Retry-After": retry_after}
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )
