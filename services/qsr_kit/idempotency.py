"""Idempotency-Key for mutations (Stripe / IETF draft semantics), kept in the service's database.

Same key + same request → the first response replayed; same key + other request → 422; same key
while the first is in flight → 409; keys live `ttl` (≥ 24 h). Scope: principal + route template.
The handler's effects and the stored response commit in ONE transaction, so a crash never leaves
an effect without its answer. Usage (the store is attached in the lifespan):

    idempotency.attach(app, idempotency.Store(db.sessionmaker_of(engine)))
    Idem = Annotated[idempotency.Guard, Depends(idempotency.guard(principal_id))]
    async def post(body: In, idem: Idem) -> Response: return await idem.run(lambda s: do(s, body))
"""

from __future__ import annotations

import hashlib
import inspect
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qsr_kit import db, http, schema

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MIN_TTL = timedelta(hours=24)
IN_FLIGHT = "in_flight"
COMPLETED = "completed"
_t = schema.idempotency_keys
_KW = inspect.Parameter.KEYWORD_ONLY


class KeyMissing(http.BadRequest):
    type = "https://qsr.io/problems/idempotency-key-missing"


class KeyReused(http.Unprocessable):
    type = "https://qsr.io/problems/idempotency-key-reused"


class KeyInFlight(http.Conflict):
    type = "https://qsr.io/problems/idempotency-key-in-flight"


@dataclass(frozen=True)
class Reply:
    """What a handler answers: a status and a JSON-able body (pydantic models welcome)."""

    status: int
    body: Any


Handler = Callable[[AsyncSession], Awaitable[Any]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Store:
    """Where keys live; one per app, built in the lifespan. `clock` is injectable for tests."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl: timedelta = MIN_TTL,
        in_flight_timeout: timedelta = timedelta(seconds=60),
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if ttl < MIN_TTL:
            raise ValueError(f"ttl: keys are kept at least {MIN_TTL}, got {ttl}")
        self.sessions = sessions
        self.ttl = ttl
        self.in_flight_timeout = in_flight_timeout
        self.clock = clock

    async def purge_expired(self) -> int:
        """Delete keys past their expiry; returns how many. Run it from a periodic job."""
        async with db.transaction(self.sessions) as session:
            result = await session.execute(sa.delete(_t).where(_t.c.expires_at <= self.clock()))
        return int(result.rowcount)  # type: ignore[attr-defined]


def attach(app: FastAPI, store: Store) -> None:
    app.state.qsr_idempotency = store


def guard(principal: Callable[..., Any]) -> Callable[..., Awaitable[Guard]]:
    """A dependency yielding a Guard; `principal` is a dependency returning the caller's id."""

    async def dependency(request: Request, who: Any, key: str | None) -> Guard:
        if key is None:
            raise KeyMissing(f"{HEADER} header is required on this mutation")
        store: Store = request.app.state.qsr_idempotency
        return Guard(store, request=request, principal=str(who), key=key)

    # Built by hand: string annotations could not see the closure's `principal`.
    key_header = Header(alias=HEADER, min_length=1, max_length=255, description="per mutation")
    dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", _KW, annotation=Request),
            inspect.Parameter("who", _KW, annotation=Annotated[Any, Depends(principal)]),
            inspect.Parameter(
                "key", _KW, annotation=Annotated[str | None, key_header], default=None
            ),
        ]
    )
    return dependency


class Guard:
    """One request's key: `run` executes the handler at most once per key."""

    def __init__(self, store: Store, *, request: Request, principal: str, key: str) -> None:
        self.store, self.request, self.principal, self.key = store, request, principal, key

    async def run(self, handler: Handler, *, status_code: int = 200) -> Response:
        route = f"{self.request.method} {getattr(self.request.scope.get('route'), 'path', '?')}"
        fingerprint = await _fingerprint(self.request)
        pk = (_t.c.principal == self.principal) & (_t.c.route == route) & (_t.c.key == self.key)
        claim = await _claim(self.store, pk, self.principal, route, self.key, fingerprint)
        if isinstance(claim, Reply):
            return _response(claim.status, claim.body, replayed=True)
        try:
            async with db.transaction(self.store.sessions) as session:
                answer = await handler(session)
                reply = answer if isinstance(answer, Reply) else Reply(status_code, answer)
                body = json.dumps(jsonable_encoder(reply.body), separators=(",", ":"))
                done = await session.execute(
                    sa.update(_t)
                    .where(pk & (_t.c.lock_token == claim))
                    .values(
                        state=COMPLETED, lock_token=None, response_status=reply.status,
                        response_body=body,
                    )
                )  # fmt: skip
                if done.rowcount != 1:  # type: ignore[attr-defined]
                    raise KeyInFlight("the key was taken over by a retry; effects rolled back")
        except BaseException:
            await _release(self.store, pk, claim)
            raise
        return _response(reply.status, body, replayed=False)


async def _claim(
    store: Store, pk: sa.ColumnElement[bool], principal: str, route: str, key: str, fp: str
) -> str | Reply:
    """A lock token if this request may run, the stored Reply if it already ran; else raises."""
    now, token = store.clock(), str(uuid.uuid4())
    fresh = {
        "fingerprint": fp, "state": IN_FLIGHT, "lock_token": token, "locked_at": now,
        "response_status": None, "response_body": None, "created_at": now,
        "expires_at": now + store.ttl,
    }  # fmt: skip
    async with db.transaction(store.sessions) as session:
        insert = _insert_ignoring_conflict(session).values(
            principal=principal, route=route, key=key, **fresh
        )
        if (await session.execute(insert)).rowcount == 1:  # type: ignore[attr-defined]
            return token
        row = (await session.execute(sa.select(_t).where(pk))).one()
        if row.expires_at <= now:
            return await _take_over(session, pk, row, fresh, token)
        if row.fingerprint != fp:
            raise KeyReused(f"{HEADER} {key!r} was already used with a different request")
        if row.state == COMPLETED:
            return Reply(row.response_status, row.response_body)
        if row.locked_at + store.in_flight_timeout > now:
            raise KeyInFlight(f"a request with {HEADER} {key!r} is still being processed")
        # The first attempt died without answering (its effects rolled back): run again.
        return await _take_over(session, pk, row, fresh, token)


async def _take_over(
    session: AsyncSession, pk: sa.ColumnElement[bool], row: Any, fresh: dict[str, Any], token: str
) -> str:
    same = (_t.c.state == row.state) & (_t.c.locked_at == row.locked_at)
    if row.lock_token is not None:
        same = same & (_t.c.lock_token == row.lock_token)
    result = await session.execute(sa.update(_t).where(pk & same).values(**fresh))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise KeyInFlight(f"a request with this {HEADER} is still being processed")
    return token


async def _release(store: Store, pk: sa.ColumnElement[bool], token: str) -> None:
    async with db.transaction(store.sessions) as session:
        await session.execute(sa.delete(_t).where(pk & (_t.c.lock_token == token)))


def _insert_ignoring_conflict(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(_t) if dialect == "postgresql" else sqlite.insert(_t)
    return insert.on_conflict_do_nothing()


async def _fingerprint(request: Request) -> str:
    """Method, concrete path, query and the body (canonical JSON when it is JSON)."""
    raw = await request.body()
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.url.path.encode(), request.url.query.encode()):
        digest.update(part + b"\n")
    digest.update(body)
    return digest.hexdigest()


def _response(status: int, body: str, *, replayed: bool) -> Response:
    headers = {REPLAYED_HEADER: "true"} if replayed else {}
    return Response(body, status_code=status, media_type="application/json", headers=headers)
