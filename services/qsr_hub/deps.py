"""The hub's FastAPI dependencies, named as types, and what the lifespan builds for the routes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qsr_hub.checkout import Runner
from qsr_hub.config import Config
from qsr_hub.saga_store import SagaStore
from qsr_hub.spokes.menu_http import CmsMenus
from qsr_hub.spokes.ordering_http import OrderingClient
from qsr_hub.spokes.ports import LoyaltySpoke
from qsr_kit import auth


@dataclass
class Hub:
    sessions: async_sessionmaker[AsyncSession]
    config: Config
    namespace: str
    sagas: SagaStore
    runner: Runner
    ordering: OrderingClient
    menus: CmsMenus
    loyalty_for_program: Callable[[str], LoyaltySpoke]
    clock: Callable[[], datetime]
    pos_wakeup: asyncio.Event
    pos_sessions: async_sessionmaker[AsyncSession]  # the webhook route's own pool


# Dependencies are `async def` even without I/O: FastAPI runs a plain `def` one in its
# thread pool, two thread hand-offs per request on the checkout's path.
async def hub(request: Request) -> Hub:
    found: Hub = request.app.state.hub
    return found


Service = Annotated[Hub, Depends(hub)]
Shopper = Annotated[auth.Principal, auth.requires("checkout")]
Reader = Annotated[auth.Principal, auth.requires("loyalty:read")]
StoreReader = Annotated[auth.Principal, auth.requires("store:read")]
