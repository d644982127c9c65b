"""Where the API server is and who we are: from a kubeconfig file or the pod's service account.

A small reader instead of a generated client: the operator's memory matters (1,000 stores under
150 MiB), and both `kube.py` and Kopf's login use the same identity from here.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class CredentialsError(Exception):
    """The kubeconfig lacks something we need; the message names it."""


@dataclasses.dataclass(frozen=True)
class Credentials:
    server: str
    ca_path: str | None = None
    certificate_path: str | None = None
    private_key_path: str | None = None
    token: str | None = None
    insecure: bool = False


def _named(items: list[dict[str, Any]], name: str, what: str) -> dict[str, Any]:
    for item in items or []:
        if item.get("name") == name:
            found: dict[str, Any] = item.get(what) or {}
            return found
    raise CredentialsError(f"kubeconfig: no {what} named {name!r}")


def _file(entry: dict[str, Any], key: str, *, base: Path, private: Path) -> str | None:
    """A path for `key` (relative to the kubeconfig) or for `key-data` (written, mode 0600)."""
    if entry.get(f"{key}-data"):
        target = private / key
        target.write_bytes(base64.b64decode(entry[f"{key}-data"]))
        target.chmod(0o600)
        return str(target)
    if entry.get(key):
        return str((base / entry[key]).resolve())
    return None


def from_kubeconfig(path: Path) -> Credentials:
    """The current context's server and user (client certificate and/or token)."""
    config = yaml.safe_load(path.read_text()) or {}
    context = _named(config.get("contexts", []), config.get("current-context", ""), "context")
    cluster = _named(config.get("clusters", []), context.get("cluster", ""), "cluster")
    user = _named(config.get("users", []), context.get("user", ""), "user")
    if not cluster.get("server"):
        raise CredentialsError("kubeconfig: the current cluster has no server")
    private = Path(tempfile.mkdtemp(prefix="qsr-operator-"))  # 0700
    base = path.parent
    return Credentials(
        server=cluster["server"],
        ca_path=_file(cluster, "certificate-authority", base=base, private=private),
        certificate_path=_file(user, "client-certificate", base=base, private=private),
        private_key_path=_file(user, "client-key", base=base, private=private),
        token=user.get("token"),
        insecure=bool(cluster.get("insecure-skip-tls-verify", False)),
    )


def in_cluster() -> Credentials:
    host, port = (
        os.environ.get("KUBERNETES_SERVICE_HOST"),
        os.environ.get("KUBERNETES_SERVICE_PORT"),
    )
    if not host or not port:
        raise CredentialsError("not in a pod: KUBERNETES_SERVICE_HOST/PORT are unset")
    return Credentials(
        server=f"https://{host}:{port}",
        ca_path=str(SERVICE_ACCOUNT / "ca.crt"),
        token=(SERVICE_ACCOUNT / "token").read_text().strip(),
    )
