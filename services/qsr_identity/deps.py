"""What the identity routes depend on: one `Identity` bundle built in the lifespan, as a type."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from qsr_identity.domain.passwords import Passwords
from qsr_identity.federation import Federation
from qsr_identity.keystore import Keystore
from qsr_identity.repository import Repository
from qsr_identity.settings import IdentitySettings


@dataclasses.dataclass(frozen=True)
class Identity:
    settings: IdentitySettings
    repository: Repository
    keystore: Keystore
    passwords: Passwords
    federation: Federation
    clock: Callable[[], float]


def identity_of(request: Request) -> Identity:
    identity: Identity = request.app.state.identity
    return identity


IdentityDep = Annotated[Identity, Depends(identity_of)]
