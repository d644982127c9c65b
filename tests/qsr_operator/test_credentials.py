"""Reading a kubeconfig into the operator's credentials (no cluster)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from qsr_operator import credentials


def _kubeconfig(tmp_path: Path, *, cluster: dict[str, object], user: dict[str, object]) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "current-context": "dev",
                "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u"}}],
                "clusters": [{"name": "c", "cluster": cluster}],
                "users": [{"name": "u", "user": user}],
            }
        )
    )
    return path


def test_inline_certificates_become_private_files(tmp_path: Path) -> None:
    data = base64.b64encode(b"PEM").decode()
    path = _kubeconfig(
        tmp_path,
        cluster={"server": "https://127.0.0.1:6443", "certificate-authority-data": data},
        user={"client-certificate-data": data, "client-key-data": data},
    )
    creds = credentials.from_kubeconfig(path)
    assert creds.server == "https://127.0.0.1:6443"
    assert creds.private_key_path is not None
    key = Path(creds.private_key_path)
    assert (key.read_bytes(), key.stat().st_mode & 0o777) == (b"PEM", 0o600)


def test_relative_paths_resolve_against_the_kubeconfig(tmp_path: Path) -> None:
    path = _kubeconfig(
        tmp_path,
        cluster={"server": "https://k", "certificate-authority": "ca.crt"},
        user={"token": "t0ken"},
    )
    creds = credentials.from_kubeconfig(path)
    assert (creds.ca_path, creds.token, creds.certificate_path) == (
        str(tmp_path / "ca.crt"),
        "t0ken",
        None,
    )


def test_missing_server_is_named(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path, cluster={}, user={})
    with pytest.raises(credentials.CredentialsError, match="server"):
        credentials.from_kubeconfig(path)
