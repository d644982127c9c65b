"""The hub as a real OS process (`python -m qsr_cli.main serve hub`) on 127.0.0.1, for crash tests:
start it, wait until it is ready, `kill -9` it, and stop whatever is left by pid."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class HubProcess:
    """One `qsr serve hub` process; its output goes to `log` (read it when a start fails)."""

    def __init__(self, env: dict[str, str], *, log: Path) -> None:
        self.env = env
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, *, within: float = 60.0) -> HubProcess:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "qsr_cli.main", "serve", "hub",
                "--host", "127.0.0.1", "--port", str(self.port),
                cwd=self.log.parent, env={**os.environ, "PYTHONPATH": str(REPO), **self.env},
                stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        await self._ready(within)
        return self

    async def _ready(self, within: float) -> None:
        assert self.process is not None
        async with httpx.AsyncClient(timeout=2) as client:
            deadline = asyncio.get_running_loop().time() + within
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(
                        f"hub exited with {self.process.returncode}: {self.tail()}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"hub not ready on {self.url}: {self.tail()}")
                await asyncio.sleep(0.05)

    async def kill9(self) -> None:
        """SIGKILL: no shutdown hook, no lease released, connections cut mid-request."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        assert await self.process.wait() == -signal.SIGKILL

    async def stop(self) -> None:
        """Ends the process if it still runs (by its pid), gracefully first."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout=15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
