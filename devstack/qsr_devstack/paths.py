"""Where the stack's binaries, jars and runtime folders live: a cache outside the git tree."""

from __future__ import annotations

import os
from pathlib import Path

K8S_VERSION = "1.34.4"
KAFKA_VERSION = "4.1.2"
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


class MissingBinaryError(RuntimeError):
    """A component has not been built; `make stack` (hack/build-stack.sh) builds it."""


def cache_dir() -> Path:
    return Path(os.environ.get("QSR_CACHE", Path.home() / ".cache" / "qsr-platform"))


def bin_dir() -> Path:
    return cache_dir() / "bin"


def kafka_libs() -> Path:
    return cache_dir() / "kafka-libs"


def runtime_root() -> Path:
    """Data directories go on tmpfs when there is one: faster tests, nothing left on disk."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path("/tmp")


def binary(name: str) -> Path:
    for folder in (bin_dir(), POSTGRES_BIN, Path("/usr/bin")):
        path = folder / name
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise MissingBinaryError(f"{name} not found in {bin_dir()}: run `make stack` to build it")


def default_state_dir() -> Path:
    """The stack that `qsr dev stack up` starts records itself here."""
    return cache_dir() / "stack"
