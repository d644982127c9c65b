"""FastAPI dependencies of the loyalty API, named as types; the lifespan fills `app.state`."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from qsr_kit import auth, db, idempotency
from qsr_loyalty.program import Program

READ = "loyalty:read"
REDEEM = "loyalty:redeem"


def _program(request: Request) -> Program:
    program: Program = request.app.state.loyalty_program
    return program


def _now(request: Request) -> dt.datetime:
    clock: Callable[[], dt.datetime] = request.app.state.loyalty_clock
    return clock()


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with db.transaction(request.app.state.loyalty_sessions) as session:
        yield session


async def _caller(who: auth.CurrentPrincipal) -> str:
    return f"{who.kind}:{who.subject}"


CurrentProgram = Annotated[Program, Depends(_program)]
Now = Annotated[dt.datetime, Depends(_now)]
Session = Annotated[AsyncSession, Depends(_session)]
Reader = Annotated[auth.Principal, auth.requires(READ)]
Redeemer = Annotated[auth.Principal, auth.requires(REDEEM)]
Idempotent = Annotated[idempotency.Guard, Depends(idempotency.guard(_caller))]
