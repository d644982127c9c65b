"""A brand's external OIDC provider, simulated: real HTTP on 127.0.0.1 (discovery + JWKS), ID tokens
signed in-process, key rotation and an outage switch for fault injection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from qsr_kit.domain import auth_tokens

STARTUP_DEADLINE_S = 10.0


class IdpSimulator:
    def __init__(self, *, audience: str = "qsr-brand-app") -> None:
        self.audience = audience
        self.keys = [auth_tokens.SigningKey.generate()]
        self.down = False
        self.jwks_hits = 0
        self.url = ""
        self.app = FastAPI()

        @self.app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {"issuer": self.url, "jwks_uri": f"{self.url}/jwks"}

        @self.app.get("/jwks")
        async def jwks() -> Any:
            self.jwks_hits += 1
            if self.down:
                return JSONResponse({"error": "maintenance"}, status_code=503)
            return {"keys": [k.public_jwk() for k in self.keys]}

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks"

    def rotate(self) -> None:
        self.keys.append(auth_tokens.SigningKey.generate())

    def id_token(self, subject: str, *, now: float, **changes: Any) -> str:
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": self.audience,
            "sub": subject,
            "iat": int(now),
            "exp": int(now) + 300,
            "email": f"{subject}@brand.test",
            "email_verified": True,
        }
        claims.update(changes)
        return auth_tokens.sign(
            {k: v for k, v in claims.items() if v is not None}, self.keys[-1], typ="JWT"
        )


@asynccontextmanager
async def running_idp(idp: IdpSimulator) -> AsyncIterator[IdpSimulator]:
    config = uvicorn.Config(idp.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError("IdP simulator did not start")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    idp.url = f"http://127.0.0.1:{port}"
    try:
        yield idp
    finally:
        server.should_exit = True
        await task
