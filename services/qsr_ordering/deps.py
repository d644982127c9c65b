"""Ordering's FastAPI dependencies, named as types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qsr_kit import auth, idempotency
from qsr_kit.domain import topics
from qsr_ordering.menus import CmsMenus
from qsr_ordering.stores import Stores


@dataclass
class Ordering:
    """What the lifespan builds and every route needs."""

    sessions: async_sessionmaker[AsyncSession]
    stores: Stores
    menus: CmsMenus
    namespace: str
    clock: Callable[[], datetime]
    notify: Callable[[], None]

    def topic_of(self, program: str) -> str:
        return topics.topic_name(
            namespace=self.namespace, program=program, stream=topics.Stream.ORDERS
        )


# Dependencies are `async def` even without I/O: FastAPI runs a plain `def` one in its
# thread pool, two thread hand-offs per request on the checkout's path.
async def ordering(request: Request) -> Ordering:
    found: Ordering = request.app.state.ordering
    return found


async def _subject(principal: Annotated[auth.Principal, auth.requires()]) -> str:
    return principal.subject


Service = Annotated[Ordering, Depends(ordering)]
Writer = Annotated[auth.Principal, auth.requires("orders:write")]
Reader = Annotated[auth.Principal, auth.requires("orders:read")]
StoreWriter = Annotated[auth.Principal, auth.requires("store:write")]
Idem = Annotated[idempotency.Guard, Depends(idempotency.guard(_subject))]
