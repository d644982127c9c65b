"""Which keys a Secret holds, for the StoreIntegration's "do its secrets exist" check.

A thousand stores usually name the same two Secrets: one GET serves every store that asks at the
same time (single flight), and a Secret that was found is remembered for `ttl` seconds. A Secret
or key that is missing is never remembered, so a store waiting for it sees it at its next retry.
Only key names are kept, never values; no watch on Secrets (no list/watch RBAC, no memory per
Secret in the namespace). A Secret deleted or emptied is noticed once its entry expires.
"""

from __future__ import annotations

import asyncio
import time

from qsr_operator import kube

Key = tuple[str, str]
MAX_ENTRIES = 1024  # expired entries are dropped once there are more than this


class SecretKeys:
    def __init__(self, *, ttl: float) -> None:
        self.ttl = ttl
        self._found: dict[Key, tuple[float, frozenset[str]]] = {}
        self._inflight: dict[Key, asyncio.Future[frozenset[str] | None]] = {}

    async def keys(self, client: kube.Kube, namespace: str, name: str) -> frozenset[str] | None:
        """The Secret's data keys, or None when it does not exist; raises `kube.KubeError`."""
        key = (namespace, name)
        hit = self._found.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[frozenset[str] | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            found = await _get(client, namespace, name)
        except BaseException as exc:
            # Waiters get an API error to retry on, never our cancellation.
            error = exc if isinstance(exc, kube.KubeError) else kube.KubeError(0, repr(exc))
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" log when nobody waits
            raise
        else:
            future.set_result(found)
        finally:
            del self._inflight[key]
        if found is not None and self.ttl > 0:
            self._remember(key, found)
        return found

    def forget(self, namespace: str, name: str) -> None:
        self._found.pop((namespace, name), None)

    def _remember(self, key: Key, found: frozenset[str]) -> None:
        now = time.monotonic()
        if len(self._found) >= MAX_ENTRIES:
            self._found = {k: v for k, v in self._found.items() if v[0] > now}
        self._found[key] = (now + self.ttl, found)


async def _get(client: kube.Kube, namespace: str, name: str) -> frozenset[str] | None:
    secret = await client.get("v1", "Secret", namespace, name)
    if secret is None:
        return None
    return frozenset(secret.get("data") or {}) | frozenset(secret.get("stringData") or {})
