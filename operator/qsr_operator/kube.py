"""The Kubernetes API, as the reconcilers need it: get, server-side apply, status patch, events.

Adapter over kubernetes_asyncio's REST layer (Kopf does no server-side apply). Every write goes
through one rate limiter and is counted, so benchmarks and tests can see "zero writes".
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from qsr_kit.domain import specs
from qsr_operator import metrics

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
    api: client.ApiClient
    limiter: RateLimiter

    @classmethod
    async def connect(cls, *, kubeconfig: Path | None, qps: float, burst: int) -> Kube:
        configuration = client.Configuration()
        if kubeconfig is None:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            await config.load_kube_config(
                config_file=str(kubeconfig), client_configuration=configuration
            )
        return cls(client.ApiClient(configuration), RateLimiter(qps=qps, burst=burst))

    async def close(self) -> None:
        await self.api.close()

    def credentials(self) -> dict[str, Any]:
        """Server, CA, client certificate and token, for Kopf's own login (same identity)."""
        conf = self.api.configuration
        token = (conf.api_key or {}).get("authorization", "") or (conf.api_key or {}).get(
            "BearerToken", ""
        )
        return {
            "server": conf.host,
            "ca_path": conf.ssl_ca_cert,
            "certificate_path": conf.cert_file,
            "private_key_path": conf.key_file,
            "token": token.removeprefix("Bearer ").strip() or None,
            "insecure": not conf.verify_ssl,
        }

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
        content_type: str = "application/json",
        kind: str = "",
    ) -> Any:
        await self.limiter.acquire()
        if method != "GET":
            metrics.API_WRITES.labels(verb=method.lower(), kind=kind).inc()
        try:
            response = await self.api.call_api(
                path,
                method,
                query_params=query or [],
                header_params={"Content-Type": content_type, "Accept": "application/json"},
                body=body,
                auth_settings=["BearerToken"],
                response_types_map={200: "object", 201: "object"},
                _return_http_data_only=True,
                _preload_content=False,
            )
        except ApiException as exc:
            raise KubeError(exc.status or 0, _message(exc.body)) from exc
        text = await response.read()
        if response.status >= 400:
            raise KubeError(response.status, _message(text))
        return json.loads(text)

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
            query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
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
