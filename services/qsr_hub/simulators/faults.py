"""Fault injection for every simulator: latency, 5xx, hangs, responses dropped after success.

A rule matches requests by method and path prefix and fires `count` times (None: until cleared).
Tests and `qsr run` set rules over HTTP (`POST /_faults`, `DELETE /_faults`) so the faults travel
the same wire as real traffic; the simulator's own state is never touched by a fault.
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Long enough for any client timeout in the platform (spokes time out in seconds).
HANG_SECONDS = 30.0


class Kind(enum.StrEnum):
    LATENCY = "latency"  # sleep, then serve
    ERROR = "error"  # answer 503 without serving
    HANG = "hang"  # never answer (client times out), nothing done
    DROP_AFTER_SUCCESS = "drop_after_success"  # serve (effect happens), then never answer


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    path_prefix: str = "/"
    method: str | None = None
    count: int | None = Field(default=None, ge=1)
    delay_seconds: float = Field(default=0.0, ge=0, le=60)
    status: int = Field(default=503, ge=500, le=599)


@dataclass
class _Armed:
    rule: Rule
    left: int | None


class Faults:
    """The armed rules of one simulator; `middleware(app)` applies them."""

    def __init__(self) -> None:
        self._rules: list[_Armed] = []
        self.fired: dict[Kind, int] = dict.fromkeys(Kind, 0)

    def arm(self, rule: Rule) -> None:
        self._rules.append(_Armed(rule, rule.count))

    def clear(self) -> None:
        self._rules.clear()

    def take(self, method: str, path: str) -> Rule | None:
        for armed in self._rules:
            rule = armed.rule
            if rule.method not in (None, method) or not path.startswith(rule.path_prefix):
                continue
            if armed.left is not None:
                armed.left -= 1
                if armed.left == 0:
                    self._rules.remove(armed)
            self.fired[rule.kind] += 1
            return rule
        return None

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"].startswith("/_"):
                await app(scope, receive, send)
                return
            rule = self.take(scope["method"], scope["path"])
            if rule is None:
                await app(scope, receive, send)
            elif rule.kind is Kind.LATENCY:
                await asyncio.sleep(rule.delay_seconds)
                await app(scope, receive, send)
            elif rule.kind is Kind.ERROR:
                await _error(send, rule.status)
            elif rule.kind is Kind.HANG:
                await asyncio.sleep(rule.delay_seconds or HANG_SECONDS)
            else:
                await app(scope, receive, _swallow)
                await asyncio.sleep(rule.delay_seconds or HANG_SECONDS)

        return guarded


async def _swallow(message: Message) -> None:
    """Drops the response the app produced: the effect happened, the client never learns it."""


async def _error(send: Send, status: int) -> None:
    body = json.dumps({"type": "about:blank", "title": "injected fault", "status": status}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/problem+json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
