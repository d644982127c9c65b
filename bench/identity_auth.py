"""Identity: sign-in time for unknown vs known accounts (enumeration by timing), and the cost of
`qsr_kit.auth` verification against a bare joserfc signature check, same run.

    .venv/bin/python -m bench.identity_auth [--rounds 40] [--tokens 3000]

Sign-in: `signing_in.authenticate` with production argon2id parameters (m=19 MiB, t=2, p=1) for a
known identifier with a wrong password, an unknown identifier and a malformed identifier,
interleaved; medians and their ratio to the known-account case (1.00 = indistinguishable).
Verification: `Verifier.verify` (pinned-key lookup, ES256 signature, typ/iss/aud/exp/nbf/iat,
principal) vs `joserfc.jwt.decode` with the key in hand (signature only); tokens/s and ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from joserfc import jwt

from qsr_identity import signing_in
from qsr_identity.deps import Identity
from qsr_identity.domain.passwords import Argon2Params, Passwords
from qsr_identity.federation import Federation
from qsr_identity.keystore import Keystore
from qsr_identity.repository import Repository
from qsr_identity.settings import IdentitySettings
from qsr_kit import auth
from qsr_kit.domain import auth_tokens

PASSWORD = "correct horse battery"


async def sign_in_seconds(identity: Identity, identifier: str) -> float:
    started = time.perf_counter()
    with contextlib.suppress(signing_in.InvalidCredentials):
        await signing_in.authenticate(identity, identifier=identifier, password="wrong password 1")
    return time.perf_counter() - started


async def sign_in_timing(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = IdentitySettings(database_url=f"sqlite:///{Path(folder) / 'bench.db'}")
        repository = Repository.connect(settings.database_url)
        await repository.create_schema()
        async with httpx.AsyncClient() as client:
            identity = Identity(
                settings=settings,
                repository=repository,
                keystore=Keystore(repository, publish_ahead_seconds=0, grace_seconds=630),
                passwords=Passwords(Argon2Params()),
                federation=Federation((), client=client, clock=time.time),
                clock=time.time,
            )
            await signing_in.sign_up_guest(
                identity, identifier="known@example.com", password=PASSWORD
            )
            cases = {"known, wrong password": "known@example.com", "unknown": "nobody@example.com",
                     "malformed identifier": "not-an-identifier"}  # fmt: skip
            samples: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(rounds):
                for name, identifier in cases.items():
                    samples[name].append(await sign_in_seconds(identity, identifier))
        await repository.close()
    base = statistics.median(samples["known, wrong password"])
    print(f"sign-in, argon2id m=19MiB t=2 p=1, {rounds} rounds interleaved")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:24s} median {median * 1000:7.1f} ms  ratio to known {median / base:5.2f}")


async def verify_rate(n: int) -> None:
    issuer = auth.LocalIssuer(issuer="https://id.bench", audience="qsr-platform")
    now = time.time()
    tokens = [
        issuer.issue(subject=f"m-{i}", kind="guest", scopes=["loyalty:read"], now=now)
        for i in range(n)
    ]
    verifier = auth.Verifier.static(
        issuer.jwks(), issuer="https://id.bench", audience="qsr-platform"
    )
    key = auth_tokens.pinned_keys(issuer.jwks())[issuer.current.kid].key
    started = time.perf_counter()
    for token in tokens:
        jwt.decode(token, key, algorithms=["ES256"])
    bare = n / (time.perf_counter() - started)
    started = time.perf_counter()
    for token in tokens:
        await verifier.verify(token)
    ours = n / (time.perf_counter() - started)
    print(f"verification, ES256, {n} distinct tokens, one core")
    print(f"  bare joserfc decode     {bare:8.0f} tokens/s")
    print(f"  qsr_kit.auth.verify     {ours:8.0f} tokens/s")
    print(f"  ratio ours/bare         {ours / bare:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--tokens", type=int, default=3000)
    args = parser.parse_args()
    asyncio.run(sign_in_timing(args.rounds))
    asyncio.run(verify_rate(args.tokens))


if __name__ == "__main__":
    main()
