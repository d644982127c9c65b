"""Rate-limit policies of the identity routes and what each does while Redis is down.

Sign-in and sign-up fail closed: they are what credential stuffing and bonus farming attack.
Token refresh and reads fail open: a Redis outage must not sign every guest out.
"""

from __future__ import annotations

from qsr_kit.ratelimit import Policy

# Per client IP: 20 attempts at once, then one every 3 s.
SIGN_IN_PER_IP = Policy("identity-sign-in-ip", capacity=20, per_second=1 / 3, fail_open=False)
# Per account (hashed identifier), whatever the IP: 5 attempts, then one a minute.
SIGN_IN_PER_ACCOUNT = Policy(
    "identity-sign-in-acct", capacity=5, per_second=1 / 60, fail_open=False
)
# Per client IP: 5 sign-ups at once, then one every 10 minutes.
SIGN_UP_PER_IP = Policy("identity-sign-up-ip", capacity=5, per_second=1 / 600, fail_open=False)
# Token endpoint per client IP (refresh, client credentials, exchange).
TOKEN_PER_IP = Policy("identity-token-ip", capacity=60, per_second=2, fail_open=True)
# Authenticated API calls per principal.
API_PER_PRINCIPAL = Policy("identity-api", capacity=60, per_second=10, fail_open=True)
