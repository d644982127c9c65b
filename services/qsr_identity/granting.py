"""OAuth 2.1 grants: authorization code + PKCE, refresh rotation with reuse detection, client
credentials, token exchange for federated ID tokens (RFC 8693), revocation (RFC 7009).

Called by `api`; each function is one transaction. A detected reuse commits its revocation before
the error is raised, so the family stays revoked.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from qsr_identity.deps import Identity
from qsr_identity.domain import oauth
from qsr_identity.domain.oauth import OAuthError
from qsr_identity.repository import Account, Client, Repository
from qsr_kit.domain import auth_tokens


@dataclasses.dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


async def authenticated_client(identity: Identity, client_id: str, secret: str | None) -> Client:
    async with identity.repository.transaction() as conn:
        client = await Repository.client_by_id(conn, client_id)
    if client is None:
        raise OAuthError("invalid_client", "client authentication failed")
    if client.secret_hash is None:
        if secret is not None:
            raise OAuthError("invalid_client", "client authentication failed")
        return client
    if secret is None or not oauth.secret_matches(secret, stored_hash=client.secret_hash):
        raise OAuthError("invalid_client", "client authentication failed")
    return client


async def authorization_code(
    identity: Identity,
    *,
    account: Account,
    client_id: str,
    redirect_uri: str,
    code_challenge: str | None,
    code_challenge_method: str | None,
    scope: str | None,
) -> str:
    async with identity.repository.transaction() as conn:
        client = await Repository.client_by_id(conn, client_id)
    if client is None or redirect_uri not in client.redirect_uris:  # exact match (OAuth 2.1 §2.3.1)
        raise OAuthError("invalid_request", "unknown client_id or unregistered redirect_uri")
    challenge = oauth.check_challenge(code_challenge, code_challenge_method)
    scopes = oauth.granted_scopes(scope, allowed=_allowed(account, client))
    code = oauth.new_opaque_token()
    now = identity.clock()
    async with identity.repository.transaction() as conn:
        await Repository.add_code(
            conn,
            code_hash=oauth.token_hash(code),
            client_id=client.client_id,
            account_id=account.account_id,
            redirect_uri=redirect_uri,
            challenge=challenge,
            scopes=sorted(scopes),
            family_id=uuid.uuid4().hex,
            expires_at=now + identity.settings.code_seconds,
        )
    return code


async def exchange_code(
    identity: Identity, *, client: Client, code: str, code_verifier: str | None, redirect_uri: str
) -> Tokens:
    now, code_hash = identity.clock(), oauth.token_hash(code)
    async with identity.repository.transaction() as conn:
        row = await Repository.code_by_hash(conn, code_hash)
    if row is None or now >= row.expires_at:
        raise OAuthError("invalid_grant", "authorization code is invalid, expired or used")
    if row.client_id != client.client_id or row.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant", "authorization code was issued to another client")
    oauth.check_pkce(code_verifier, challenge=row.challenge)
    account = await _account(identity, row.account_id)
    grant = _Grant(identity, account, client, frozenset(row.scopes), row.family_id, now)
    key = await identity.keystore.signing_key(now=now)
    # One transaction: consuming the code and storing its refresh token, so a concurrent second use
    # (which revokes the family) cannot slip between them and leave the new token alive.
    async with identity.repository.transaction() as conn:
        first_use = await Repository.mark_code_used(conn, code_hash, now=now)
        if first_use:
            await Repository.add_refresh(conn, **grant.refresh_row(now + _family_seconds(identity)))
        else:
            await Repository.revoke_family(conn, row.family_id, now=now)  # RFC 6749 §4.1.2
    if not first_use:
        raise OAuthError("invalid_grant", "authorization code is invalid, expired or used")
    return grant.tokens(key)


async def refresh(
    identity: Identity, *, client: Client, refresh_token: str, scope: str | None
) -> Tokens:
    now, token_hash = identity.clock(), oauth.token_hash(refresh_token)
    async with identity.repository.transaction() as conn:
        row = await Repository.refresh_by_hash(conn, token_hash)
    if row is None or row.client_id != client.client_id:
        raise OAuthError("invalid_grant", "refresh token is invalid")
    scopes = oauth.granted_scopes(scope, allowed=frozenset(row.scopes))
    account = await _account(identity, row.account_id)
    grant = _Grant(identity, account, client, scopes, row.family_id, now)
    key = await identity.keystore.signing_key(now=now)
    record = oauth.RefreshRecord(
        family_id=row.family_id,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
        expires_at=row.expires_at,
        family_expires_at=row.family_expires_at,
    )
    verdict = oauth.refresh_verdict(record, now=now)
    # One transaction: mark used (compare-and-set) and store the successor, or revoke the family.
    async with identity.repository.transaction() as conn:
        if verdict == "rotate" and not await Repository.mark_refresh_used(
            conn, token_hash, now=now
        ):
            verdict = "reuse"  # lost a race against another use of the same token
        if verdict == "rotate":
            await Repository.add_refresh(conn, **grant.refresh_row(row.family_expires_at))
        elif verdict == "reuse":
            await Repository.revoke_family(conn, row.family_id, now=now)
    if verdict == "reuse":
        raise OAuthError("invalid_grant", "refresh token was already used; the session is revoked")
    if verdict == "expired":
        raise OAuthError("invalid_grant", "refresh token expired")
    return grant.tokens(key)


async def client_credentials(identity: Identity, *, client: Client, scope: str | None) -> Tokens:
    if client.secret_hash is None:
        raise OAuthError("unauthorized_client", "public clients cannot use client_credentials")
    scopes = oauth.granted_scopes(scope, allowed=client.scopes)
    now = identity.clock()
    claims = auth_tokens.access_token_claims(
        issuer=identity.settings.issuer,
        audience=identity.settings.audience,
        subject=client.client_id,
        kind="service",
        scopes=scopes,
        now=now,
        lifetime_seconds=identity.settings.access_token_seconds,
        client_id=client.client_id,
    )
    key = await identity.keystore.signing_key(now=now)
    token = auth_tokens.sign(claims, key)
    return Tokens(token, identity.settings.access_token_seconds, " ".join(sorted(scopes)))


async def exchange_federated(
    identity: Identity, *, client: Client, id_token: str, scope: str | None
) -> Tokens:
    """RFC 8693: an external ID token for our tokens; the first time creates and links a guest."""
    issuer, subject = await identity.federation.external_subject(id_token)
    now = identity.clock()
    async with identity.repository.transaction() as conn:
        account_id = await Repository.linked_account_id(conn, issuer=issuer, subject=subject)
        if account_id is None:
            account = Account(uuid.uuid4().hex, "guest", None, None, uuid.uuid4().hex, ())
            await Repository.add_account(conn, account, now=now)
            await Repository.link(
                conn, issuer=issuer, subject=subject, account_id=account.account_id, now=now
            )
            account_id = account.account_id
    account = await _account(identity, account_id)
    scopes = oauth.granted_scopes(scope, allowed=_allowed(account, client))
    grant = _Grant(identity, account, client, scopes, uuid.uuid4().hex, now)
    key = await identity.keystore.signing_key(now=now)
    async with identity.repository.transaction() as conn:
        await Repository.add_refresh(conn, **grant.refresh_row(now + _family_seconds(identity)))
    return grant.tokens(key)


async def link_federated(identity: Identity, *, account_id: str, id_token: str) -> None:
    issuer, subject = await identity.federation.external_subject(id_token)
    async with identity.repository.transaction() as conn:
        linked = await Repository.linked_account_id(conn, issuer=issuer, subject=subject)
        if linked is None:
            await Repository.link(
                conn, issuer=issuer, subject=subject, account_id=account_id, now=identity.clock()
            )
    if linked is not None and linked != account_id:
        raise OAuthError("invalid_grant", "that external identity is linked to another account")


async def revoke(identity: Identity, *, client: Client, token: str) -> None:
    """RFC 7009: revoking a refresh token ends its family (sign-out); unknown tokens are ignored."""
    now = identity.clock()
    async with identity.repository.transaction() as conn:
        row = await Repository.refresh_by_hash(conn, oauth.token_hash(token))
        if row is not None and row.client_id == client.client_id:
            await Repository.revoke_family(conn, row.family_id, now=now)


def _allowed(account: Account, client: Client) -> frozenset[str]:
    by_kind = oauth.SCOPES_BY_KIND.get("staff" if account.kind == "staff" else "guest", frozenset())
    return by_kind & client.scopes


async def _account(identity: Identity, account_id: str) -> Account:
    async with identity.repository.transaction() as conn:
        account = await Repository.account_by_id(conn, account_id)
    if account is None:
        raise OAuthError("invalid_grant", "the account no longer exists")
    return account


def _family_seconds(identity: Identity) -> int:
    return identity.settings.refresh_family_seconds


class _Grant:
    """What one successful grant hands out: a signed access token and the next refresh token."""

    def __init__(
        self,
        identity: Identity,
        account: Account,
        client: Client,
        scopes: frozenset[str],
        family_id: str,
        now: float,
    ) -> None:
        self.identity, self.account, self.client = identity, account, client
        self.scopes, self.family_id, self.now = scopes, family_id, now
        self.refresh_token = oauth.new_opaque_token()

    def refresh_row(self, family_expires_at: float) -> dict[str, Any]:
        lifetime = self.identity.settings.refresh_token_seconds
        return {
            "token_hash": oauth.token_hash(self.refresh_token),
            "family_id": self.family_id,
            "account_id": self.account.account_id,
            "client_id": self.client.client_id,
            "scopes": sorted(self.scopes),
            "issued_at": self.now,
            "expires_at": min(self.now + lifetime, family_expires_at),
            "family_expires_at": family_expires_at,
        }

    def tokens(self, key: auth_tokens.SigningKey) -> Tokens:
        settings, account = self.identity.settings, self.account
        claims = auth_tokens.access_token_claims(
            issuer=settings.issuer,
            audience=settings.audience,
            subject=account.account_id,
            kind="staff" if account.kind == "staff" else "guest",
            scopes=self.scopes,
            now=self.now,
            lifetime_seconds=settings.access_token_seconds,
            member_id=account.member_id,
            store_ids=account.store_ids,
            client_id=self.client.client_id,
        )
        access = auth_tokens.sign(claims, key)
        scope = " ".join(sorted(self.scopes))
        return Tokens(access, settings.access_token_seconds, scope, self.refresh_token)
