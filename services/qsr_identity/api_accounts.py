"""Account routes: guest sign-up, own account, staff creation, federated links, key rotation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from qsr_identity import granting, limits, signing_in
from qsr_identity.deps import IdentityDep
from qsr_identity.repository import Account, Repository
from qsr_identity.schemas import Accepted, AccountOut, KeyRotated, LinkIn, SignUp, StaffIn, problems
from qsr_kit import auth, ratelimit

router = APIRouter()
PerIpSignUp = Annotated[None, ratelimit.per_ip(limits.SIGN_UP_PER_IP)]
PER_PRINCIPAL = [ratelimit.per_principal(limits.API_PER_PRINCIPAL)]


@router.post("/v1/guests", status_code=202, responses=problems(422, 429, post=True))
async def sign_up(identity: IdentityDep, body: SignUp, _: PerIpSignUp) -> Accepted:
    """The same 202 whether or not the identifier already has an account (no enumeration)."""
    await signing_in.sign_up_guest(identity, identifier=body.identifier, password=body.password)
    return Accepted()


@router.get("/v1/accounts/me", responses=problems(401, 403, 404, 429), dependencies=PER_PRINCIPAL)
async def me(
    identity: IdentityDep, who: Annotated[auth.Principal, auth.requires("profile")]
) -> AccountOut:
    return await _account_out(identity, who.subject)


@router.get(
    "/v1/accounts/{account_id}",
    responses=problems(401, 403, 404, 422, 429),
    operation_id="get_account",
    dependencies=PER_PRINCIPAL,
)
async def account(
    identity: IdentityDep, account_id: str, who: Annotated[auth.Principal, auth.requires("profile")]
) -> AccountOut:
    """Guests and staff see only themselves; services anyone (object-level check, OWASP API1)."""
    if who.kind != "service" and who.subject != account_id:
        raise auth.NotYourObject("this principal may not read that account")
    return await _account_out(identity, account_id)


@router.post(
    "/v1/staff",
    status_code=201,
    responses=problems(401, 403, 409, 422, 429, post=True),
    openapi_extra={
        "responses": {
            "201": {
                "links": {
                    "GetAccount": {
                        "operationId": "get_account",
                        "parameters": {"account_id": "$response.body#/account_id"},
                    }
                }
            }
        }
    },
    dependencies=PER_PRINCIPAL,
)
async def create_staff(
    identity: IdentityDep,
    body: StaffIn,
    _: Annotated[auth.Principal, auth.requires("identity:admin")],
) -> AccountOut:
    created = await signing_in.create_staff(
        identity, identifier=body.identifier, password=body.password, store_ids=body.store_ids
    )
    return _out(created)


@router.post(
    "/v1/accounts/me/links",
    status_code=204,
    responses=problems(400, 401, 403, 422, 429, post=True),
    dependencies=PER_PRINCIPAL,
)
async def link(
    identity: IdentityDep, body: LinkIn, who: Annotated[auth.Principal, auth.requires("profile")]
) -> None:
    """Link a brand IdP identity to the signed-in guest, so its ID tokens sign in as this guest."""
    if who.kind != "guest":
        raise auth.NotYourObject("only guests link external identities")
    await granting.link_federated(identity, account_id=who.subject, id_token=body.id_token)


@router.post(
    "/v1/keys/rotate", responses=problems(401, 403, 429, post=True), dependencies=PER_PRINCIPAL
)
async def rotate_keys(
    identity: IdentityDep, _: Annotated[auth.Principal, auth.requires("identity:admin")]
) -> KeyRotated:
    return KeyRotated(kid=await identity.keystore.rotate(now=identity.clock()))


class UnknownAccount(LookupError):
    """The account id names no account (→ 404)."""


async def _account_out(identity: IdentityDep, account_id: str) -> AccountOut:
    async with identity.repository.transaction() as conn:
        found = await Repository.account_by_id(conn, account_id)
    if found is None:
        raise UnknownAccount("account_id: no such account")
    return _out(found)


def _out(account: Account) -> AccountOut:
    return AccountOut(
        account_id=account.account_id,
        kind="staff" if account.kind == "staff" else "guest",
        member_id=account.member_id,
        identifier=account.identifier,
        store_ids=list(account.store_ids),
    )
