"""The stack: starts groups of components on demand, records them in a state file, stops them all.

Used by the pytest fixtures (one stack per test session, children die with pytest) and by
`qsr dev stack up|down|status|env` (a detached stack recorded under the cache folder).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from qsr_devstack import kube, processes, services
from qsr_devstack.paths import runtime_root
from qsr_devstack.processes import Started

Group = Literal["k8s", "kafka", "postgres", "redis"]
GROUPS: dict[Group, tuple[str, ...]] = {
    "k8s": ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"),
    "kafka": ("kafka",),
    "postgres": ("postgres",),
    "redis": ("redis",),
}
# The executable each component's pid must still run before a stop signals it (pid reuse guard).
EXECUTABLES: dict[str, frozenset[str]] = {
    "etcd": frozenset({"etcd"}),
    "kube-apiserver": frozenset({"kube-apiserver"}),
    "kube-controller-manager": frozenset({"kube-controller-manager"}),
    "kube-scheduler": frozenset({"kube-scheduler"}),
    "kwok": frozenset({"kwok"}),
    "kafka": frozenset({"java"}),
    "postgres": frozenset({"postgres"}),
    # Debian's redis-server is a link to redis-check-rdb, which dispatches on argv[0].
    "redis": frozenset({"redis-server", "redis-check-rdb"}),
}
STATE_FILE = "stack.json"
PORT_RACE_ATTEMPTS = 3


def _lost_port_race(message: str) -> bool:
    return "address already in use" in message.lower()


@dataclass
class Stack:
    root: Path
    die_with_parent: bool
    procs: dict[str, Started] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, *, die_with_parent: bool) -> Stack:
        root = Path(tempfile.mkdtemp(prefix="qsr-stack-", dir=runtime_root()))
        root.chmod(0o755)  # postgres runs as its own user and must reach its data folder
        return cls(root=root, die_with_parent=die_with_parent)

    @classmethod
    def load(cls, state_file: Path) -> Stack:
        state = json.loads(state_file.read_text())
        stack = cls(root=Path(state["root"]), die_with_parent=False)
        for name, item in state["components"].items():
            stack.procs[name] = Started(name=name, pid=item["pid"], log=Path(item["log"]))
        stack.endpoints = state["endpoints"]
        return stack

    @property
    def state_file(self) -> Path:
        return self.root / STATE_FILE

    def has(self, group: Group) -> bool:
        return all(name in self.procs for name in GROUPS[group])

    def start(self, group: Group) -> None:
        """Start a group unless it runs already; on failure stop what it started and re-raise.

        Ports are picked free and then bound by the child, so another stack on the machine can take
        one in between: only that failure ("address already in use") starts the group again.
        """
        if self.has(group):
            return
        for attempt in range(1, PORT_RACE_ATTEMPTS + 1):
            try:
                self._start(group)
                return
            except processes.StartError as exc:
                self._stop_group(group)
                if attempt == PORT_RACE_ATTEMPTS or not _lost_port_race(str(exc)):
                    raise
            except BaseException:
                self._stop_group(group)
                raise
            finally:
                self.save()

    def _stop_group(self, group: Group) -> None:
        for name in reversed(GROUPS[group]):
            self._stop_one(name)

    def _start(self, group: Group) -> None:
        root, dwp = self.root, self.die_with_parent
        if group == "k8s":
            etcd, etcd_url = kube.start_etcd(root, die_with_parent=dwp)
            self.procs["etcd"] = etcd
            apiserver, server, pki, kubeconfig = kube.start_apiserver(
                root, etcd_url=etcd_url, die_with_parent=dwp
            )
            self.procs["kube-apiserver"] = apiserver
            self.endpoints |= {"server": server, "kubeconfig": str(kubeconfig)}
            api = kube.ApiClient(server, pki)
            self.procs["kube-controller-manager"] = kube.start_controller_manager(
                root, api=api, kubeconfig=kubeconfig, pki=pki, die_with_parent=dwp
            )
            self.procs["kube-scheduler"] = kube.start_scheduler(
                root, kubeconfig=kubeconfig, die_with_parent=dwp
            )
            self.procs["kwok"] = kube.start_kwok(
                root, api=api, kubeconfig=kubeconfig, die_with_parent=dwp
            )
        elif group == "kafka":
            self.procs["kafka"], self.endpoints["kafka"] = services.start_kafka(
                root, die_with_parent=dwp
            )
        elif group == "postgres":
            self.procs["postgres"], self.endpoints["postgres"] = services.start_postgres(
                root, die_with_parent=dwp
            )
        else:
            self.procs["redis"], self.endpoints["redis"] = services.start_redis(
                root, die_with_parent=dwp
            )

    def save(self) -> None:
        state = {
            "root": str(self.root),
            "components": {
                name: {"pid": p.pid, "log": str(p.log)} for name, p in self.procs.items()
            },
            "endpoints": self.endpoints,
        }
        self.state_file.write_text(json.dumps(state, indent=2))

    def env(self) -> dict[str, str]:
        """Environment variables that point clients (kubectl, the services, tests) at the stack."""
        names = {
            "kubeconfig": "KUBECONFIG",
            "kafka": "QSR_KAFKA_BOOTSTRAP",
            "postgres": "QSR_DATABASE_URL",
            "redis": "QSR_REDIS_URL",
        }
        return {names[k]: v for k, v in self.endpoints.items() if k in names}

    def status(self) -> list[tuple[str, int, bool, int]]:
        """(component, pid, alive, resident bytes of its process group) for each component."""
        return [
            (name, p.pid, self._owns(name, p.pid), processes.process_group_rss(p.pid))
            for name, p in self.procs.items()
        ]

    def _owns(self, name: str, pid: int) -> bool:
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            return False
        return processes.is_alive(pid) and Path(exe).name in EXECUTABLES[name]

    def _stop_one(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        if proc.popen is not None or self._owns(name, proc.pid):
            processes.stop(proc.pid, popen=proc.popen)

    def stop(self, *, remove: bool = True) -> None:
        """Stop every component, last started first; remove the data folder."""
        for name in reversed(list(self.procs)):
            self._stop_one(name)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            self.save()
