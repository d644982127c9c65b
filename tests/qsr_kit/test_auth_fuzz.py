"""Property: any change to a valid token, or any string at all, is refused as TokenRejected —
never accepted, never another exception (which would surface as a 500)."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from qsr_kit import auth

ISS, AUD, NOW = "https://id.qsr.test", "qsr-platform", 1_800_000_000.0
ISSUER = auth.LocalIssuer(issuer=ISS, audience=AUD)
VERIFIER = auth.Verifier.static(ISSUER.jwks(), issuer=ISS, audience=AUD, clock=lambda: NOW)
TOKEN = ISSUER.issue(subject="m-1", kind="guest", scopes=["loyalty:read"], now=NOW)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="


def outcome(token: str) -> str:
    try:
        asyncio.run(VERIFIER.verify(token))
    except auth.TokenRejected:
        return "rejected"
    return "accepted"


def test_the_untouched_token_is_accepted() -> None:
    assert outcome(TOKEN) == "accepted"


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, len(TOKEN) - 1), char=st.sampled_from(ALPHABET))
def test_any_single_character_change_is_rejected(position: int, char: str) -> None:
    mutated = TOKEN[:position] + char + TOKEN[position + 1 :]
    if mutated != TOKEN:
        assert outcome(mutated) == "rejected"


def test_non_canonical_trailing_bits_are_rejected() -> None:
    # The last signature character carries unused bits; flipping them keeps the same bytes.
    last = TOKEN[-1]
    index = ALPHABET[:64].index(last) if last in ALPHABET[:64] else 0
    twin = TOKEN[:-1] + ALPHABET[:64][index ^ 1]
    assert outcome(twin) == "rejected"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_strings_are_rejected(text: str) -> None:
    assert outcome(text) == "rejected"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=200), min_size=3, max_size=3))
def test_arbitrary_three_part_strings_are_rejected(parts: list[str]) -> None:
    assert outcome(".".join(parts)) == "rejected"
