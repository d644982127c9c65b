"""The Kubernetes API, as the reconcilers need it: get, server-side apply, status patch.

Plain aiohttp (Kopf does no server-side apply; a generated client costs ~40 MiB for a handful of
calls). Every request passes one rate limiter; every write is counted ("zero writes" is a metric).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import ssl
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

from qsr_kit.domain import specs
from qsr_operator import credentials, metrics

FIELD_MANAGER = "qsr-operator"
Manifest = dict[str, Any]

# (apiVersion, kind) -> plural; the path prefix follows from the apiVersion.
PLURALS = {
    ("v1", "ConfigMap"): "configmaps",
    ("v1", "Service"): "services",
    ("v1", "Secret"): "secrets",
    ("v1", "Event"): "events",
    ("apps/v1", "Deployment"): "deployments",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "horizontalpodautoscalers",
    ("policy/v1", "PodDisruptionBudget"): "poddisruptionbudgets",
    (f"{specs.API_GROUP}/{specs.API_VERSION}", "LoyaltyProgram"): "loyaltyprograms",
    (f"{specs.API_GROUP}/{specs.API_VERSION}", "StoreIntegration"): "storeintegrations",
}


class KubeError(Exception):
    """The API server refused or failed a request (status and message from its answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


def path_of(api_version: str, kind: str, namespace: str, name: str | None = None) -> str:
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    path = f"{prefix}/namespaces/{namespace}/{PLURALS[(api_version, kind)]}"
    return f"{path}/{name}" if name else path


class RateLimiter:
    """Token bucket: at most `qps` requests a second on average, bursts up to `burst`."""

    def __init__(self, *, qps: float, burst: int) -> None:
        self.qps, self.burst = qps, burst
        self.tokens, self.stamp = float(burst), time.monotonic()
        self.lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.qps)
            self.stamp = now
            if self.tokens < 1:
                await asyncio.sleep((1 - self.tokens) / self.qps)
                self.tokens, self.stamp = 1.0, time.monotonic()
            self.tokens -= 1


@dataclasses.dataclass
class Kube:
    creds: credentials.Credentials
    session: aiohttp.ClientSession
    limiter: RateLimiter

    @classmethod
    async def connect(cls, *, kubeconfig: Path | None, qps: float, burst: int) -> Kube:
        creds = (
            credentials.in_cluster()
            if kubeconfig is None
            else credentials.from_kubeconfig(kubeconfig)
        )
        context = ssl.create_default_context(cafile=creds.ca_path)
        if creds.insecure:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        if creds.certificate_path and creds.private_key_path:
            context.load_cert_chain(creds.certificate_path, creds.private_key_path)
        headers = {"Accept": "application/json"}
        if creds.token:
            headers["Authorization"] = f"Bearer {creds.token}"
        session = aiohttp.ClientSession(
            base_url=creds.server,
            headers=headers,
            connector=aiohttp.TCPConnector(ssl=context, limit=32),
            timeout=aiohttp.ClientTimeout(total=60, connect=10),
        )
        return cls(creds, session, RateLimiter(qps=qps, burst=burst))

    async def close(self) -> None:
        await self.session.close()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        kind: str = "",
    ) -> Any:
        await self.limiter.acquire()
        if method != "GET":
            metrics.API_WRITES.labels(verb=method.lower(), kind=kind).inc()
        data = None if body is None else json.dumps(body)
        try:
            async with self.session.request(
                method, path, params=query, data=data, headers={"Content-Type": content_type}
            ) as response:
                text = await response.text()
                if response.status >= 400:
                    raise KubeError(response.status, _message(text))
                return json.loads(text)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise KubeError(0, f"{method} {path}: {exc!r}") from exc

    async def get(self, api_version: str, kind: str, namespace: str, name: str) -> Manifest | None:
        """The live object, or None when it does not exist."""
        try:
            found: Manifest = await self._call("GET", path_of(api_version, kind, namespace, name))
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise
        return found

    async def apply(self, manifest: Manifest) -> Manifest:
        """Server-side apply with our field manager, forcing conflicts (we own these fields)."""
        meta = manifest["metadata"]
        path = path_of(manifest["apiVersion"], manifest["kind"], meta["namespace"], meta["name"])
        applied: Manifest = await self._call(
            "PATCH",
            path,
            body=manifest,
            query={"fieldManager": FIELD_MANAGER, "force": "true"},
            content_type="application/apply-patch+yaml",
            kind=manifest["kind"],
        )
        return applied

    async def patch_status(
        self, api_version: str, kind: str, namespace: str, name: str, status: Manifest
    ) -> None:
        """Merge-patch only the given top-level status keys."""
        await self._call(
            "PATCH",
            path_of(api_version, kind, namespace, name) + "/status",
            body={"status": status},
            content_type="application/merge-patch+json",
            kind=f"{kind}/status",
        )


def _message(body: Any) -> str:
    try:
        return str(json.loads(body).get("message", body))
    except (TypeError, ValueError, AttributeError):
        return str(body)
