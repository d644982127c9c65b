"""What the pytest fixtures hand to tests: typed handles on each running part of the stack."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from qsr_devstack.paths import bin_dir, binary
from qsr_devstack.processes import StartError
from qsr_devstack.stack import Group, Stack


@dataclass(frozen=True)
class Kube:
    kubeconfig: Path
    server: str
    bin_dir: Path


@dataclass(frozen=True)
class Kafka:
    bootstrap: str


@dataclass(frozen=True)
class Redis:
    url: str


@dataclass(frozen=True)
class Postgres:
    dsn: str

    def create_database(self, name: str) -> str:
        """Create an empty database and return its DSN (postgresql://...)."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"database name {name!r}: use lowercase letters, digits and _")
        subprocess.run(
            [str(binary("psql")), self.dsn, "-qc", f'CREATE DATABASE "{name}"'],
            check=True,
            capture_output=True,
        )
        return self.dsn.rsplit("/", 1)[0] + f"/{name}"


class SessionStack:
    """Starts each part on first use; a part that failed once fails every later request at once."""

    def __init__(self) -> None:
        self.stack = Stack.create(die_with_parent=True)
        self._failed: dict[Group, str] = {}

    def ensure(self, group: Group) -> dict[str, str]:
        if group in self._failed:
            raise StartError(self._failed[group])
        try:
            self.stack.start(group)
        except StartError as exc:
            self._failed[group] = str(exc)
            raise
        return self.stack.endpoints

    def kube(self) -> Kube:
        ep = self.ensure("k8s")
        return Kube(kubeconfig=Path(ep["kubeconfig"]), server=ep["server"], bin_dir=bin_dir())

    def kafka(self) -> Kafka:
        return Kafka(bootstrap=self.ensure("kafka")["kafka"])

    def postgres(self) -> Postgres:
        return Postgres(dsn=self.ensure("postgres")["postgres"])

    def redis(self) -> Redis:
        return Redis(url=self.ensure("redis")["redis"])

    def close(self) -> None:
        self.stack.stop()
