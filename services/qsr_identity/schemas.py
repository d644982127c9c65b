"""Wire models of the identity API: strict inputs (unknown JSON fields refused), typed outputs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Text = Field(min_length=1, max_length=254)
Secret = Field(min_length=1, max_length=128)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignUp(Strict):
    identifier: str = Field(min_length=3, max_length=254, description="e-mail or +E.164 phone")
    password: str = Secret


class StaffIn(Strict):
    identifier: str = Field(min_length=3, max_length=254)
    password: str = Secret
    store_ids: list[str] = Field(min_length=1, max_length=200)


class LinkIn(Strict):
    id_token: str = Field(min_length=1, max_length=8192)


class AuthorizeForm(BaseModel):
    # OAuth forms ignore unknown parameters (RFC 6749 §3.1), so no extra="forbid" here.
    response_type: str = Field(max_length=32)
    client_id: str = Field(min_length=1, max_length=64)
    redirect_uri: str = Field(min_length=1, max_length=512)
    code_challenge: str | None = Field(default=None, max_length=128)
    code_challenge_method: str | None = Field(default=None, max_length=16)
    scope: str | None = Field(default=None, max_length=1024)
    state: str | None = Field(default=None, max_length=512)
    identifier: str = Field(min_length=1, max_length=254)
    password: str = Secret


class TokenForm(BaseModel):
    grant_type: str = Field(min_length=1, max_length=128)
    client_id: str | None = Field(default=None, max_length=64)
    client_secret: str | None = Field(default=None, max_length=256)
    code: str | None = Field(default=None, max_length=256)
    redirect_uri: str | None = Field(default=None, max_length=512)
    code_verifier: str | None = Field(default=None, max_length=128)
    refresh_token: str | None = Field(default=None, max_length=256)
    scope: str | None = Field(default=None, max_length=1024)
    subject_token: str | None = Field(default=None, max_length=8192)
    subject_token_type: str | None = Field(default=None, max_length=128)


class RevokeForm(BaseModel):
    token: str = Field(min_length=1, max_length=8192)
    token_type_hint: str | None = Field(default=None, max_length=64)
    client_id: str | None = Field(default=None, max_length=64)
    client_secret: str | None = Field(default=None, max_length=256)


class Accepted(Strict):
    status: Literal["accepted"] = "accepted"


class AccountOut(Strict):
    account_id: str
    kind: Literal["guest", "staff"]
    member_id: str | None
    identifier: str | None
    store_ids: list[str]


class TokenOut(Strict):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    refresh_token: str | None = None


class KeyRotated(Strict):
    kid: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    model_config = ConfigDict(extra="allow")


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for problem+json answers, so fuzzers check the documented content type."""
    schema = Problem.model_json_schema()
    return {
        s: {"description": "problem", "content": {"application/problem+json": {"schema": schema}}}
        for s in statuses
    }
