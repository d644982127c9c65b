"""Runs an ASGI app under uvicorn on 127.0.0.1 in a background thread, on a free port.

Simulators and embedded services use it in tests and in `qsr run`; `stop()` waits for shutdown.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn


class Server:
    def __init__(self, app: Any, *, port: int = 0, name: str = "simulator") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self, *, timeout: float = 10.0) -> Server:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self._thread.name} did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self, *, timeout: float = 10.0, grace: float = 2.0) -> None:
        """Graceful first (the app's lifespan shutdown runs); forced after `grace` seconds, which
        only cuts requests still hanging (a simulator's injected hang)."""
        self._server.should_exit = True
        self._thread.join(grace)
        self._server.force_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
