"""OAuth 2.1 / OIDC routes: discovery, JWKS, authorize (PKCE), token, revoke. Wiring only."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import unquote_plus, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse

from qsr_identity import granting, limits, signing_in
from qsr_identity.deps import IdentityDep
from qsr_identity.domain import accounts
from qsr_identity.domain.oauth import GUEST_SCOPES, STAFF_SCOPES, OAuthError
from qsr_identity.federation import ID_TOKEN_TYPE
from qsr_identity.schemas import AuthorizeForm, RevokeForm, TokenForm, TokenOut, problems
from qsr_kit import ratelimit

router = APIRouter()
PerIpSignIn = Annotated[None, ratelimit.per_ip(limits.SIGN_IN_PER_IP)]
PerIpToken = Annotated[None, ratelimit.per_ip(limits.TOKEN_PER_IP)]
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get("/.well-known/openid-configuration")
async def discovery(identity: IdentityDep) -> dict[str, Any]:
    issuer = identity.settings.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth2/authorize",
        "token_endpoint": f"{issuer}/oauth2/token",
        "revocation_endpoint": f"{issuer}/oauth2/revoke",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            TOKEN_EXCHANGE,
        ],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": sorted(GUEST_SCOPES | STAFF_SCOPES),
        "authorization_response_iss_parameter_supported": True,
    }


@router.get("/.well-known/jwks.json")
async def jwks(identity: IdentityDep) -> JSONResponse:
    body = await identity.keystore.jwks(now=identity.clock())
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})


@router.post(
    "/oauth2/authorize",
    status_code=303,
    response_class=RedirectResponse,
    responses=problems(400, 401, 422, 429, post=True),
)
async def authorize(
    identity: IdentityDep,
    request: Request,
    form: Annotated[AuthorizeForm, Form()],
    _: PerIpSignIn,
) -> RedirectResponse:
    """Sign-in step of the authorization-code flow: credentials in, a code redirected to the app."""
    if form.response_type != "code":
        raise OAuthError("invalid_request", "response_type must be code")
    await ratelimit.enforce(request, limits.SIGN_IN_PER_ACCOUNT, _account_key(form.identifier))
    account = await signing_in.authenticate(
        identity, identifier=form.identifier, password=form.password
    )
    code = await granting.authorization_code(
        identity,
        account=account,
        client_id=form.client_id,
        redirect_uri=form.redirect_uri,
        code_challenge=form.code_challenge,
        code_challenge_method=form.code_challenge_method,
        scope=form.scope,
    )
    params = {"code": code, "iss": identity.settings.issuer}  # RFC 9207 iss against mix-up
    if form.state is not None:
        params["state"] = form.state
    separator = "&" if "?" in form.redirect_uri else "?"
    return RedirectResponse(f"{form.redirect_uri}{separator}{urlencode(params)}", status_code=303)


@router.post(
    "/oauth2/token", response_model=TokenOut, responses=problems(400, 401, 422, 429, post=True)
)
async def token(
    identity: IdentityDep, request: Request, form: Annotated[TokenForm, Form()], _: PerIpToken
) -> JSONResponse:
    client_id, secret = _client_credentials(request, form.client_id, form.client_secret)
    client = await granting.authenticated_client(identity, client_id, secret)
    if form.grant_type == "authorization_code":
        if form.code is None or form.redirect_uri is None:
            raise OAuthError("invalid_request", "code and redirect_uri are required")
        tokens = await granting.exchange_code(
            identity,
            client=client,
            code=form.code,
            code_verifier=form.code_verifier,
            redirect_uri=form.redirect_uri,
        )
    elif form.grant_type == "refresh_token":
        if form.refresh_token is None:
            raise OAuthError("invalid_request", "refresh_token is required")
        tokens = await granting.refresh(
            identity, client=client, refresh_token=form.refresh_token, scope=form.scope
        )
    elif form.grant_type == "client_credentials":
        tokens = await granting.client_credentials(identity, client=client, scope=form.scope)
    elif form.grant_type == TOKEN_EXCHANGE:
        if form.subject_token is None or form.subject_token_type != ID_TOKEN_TYPE:
            raise OAuthError(
                "invalid_request", f"subject_token of type {ID_TOKEN_TYPE} is required"
            )
        tokens = await granting.exchange_federated(
            identity, client=client, id_token=form.subject_token, scope=form.scope
        )
    else:
        raise OAuthError("unsupported_grant_type", "grant_type is not supported")
    return JSONResponse(tokens.body(), headers=NO_STORE)


@router.post("/oauth2/revoke", responses=problems(400, 401, 422, 429, post=True))
async def revoke(
    identity: IdentityDep, request: Request, form: Annotated[RevokeForm, Form()], _: PerIpToken
) -> JSONResponse:
    client_id, secret = _client_credentials(request, form.client_id, form.client_secret)
    client = await granting.authenticated_client(identity, client_id, secret)
    await granting.revoke(identity, client=client, token=form.token)
    return JSONResponse({}, headers=NO_STORE)


def _client_credentials(
    request: Request, form_id: str | None, form_secret: str | None
) -> tuple[str, str | None]:
    """client_secret_basic (RFC 6749 §2.3.1, form-encoded parts) or client_secret_post / none."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic" or form_secret is not None:
            raise OAuthError("invalid_client", "use exactly one client authentication method")
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise OAuthError("invalid_client", "malformed Basic credentials") from error
        raw_id, sep, raw_secret = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", "malformed Basic credentials")
        return unquote_plus(raw_id), unquote_plus(raw_secret)
    if form_id is None:
        raise OAuthError("invalid_client", "client_id is required")
    return form_id, form_secret


def _account_key(identifier: str) -> str:
    try:
        normalized: str = accounts.normalized_identifier(identifier)
    except accounts.InvalidField:
        normalized = identifier.strip().lower()
    return ratelimit.hashed(normalized)
