"""Shared by every service's Schemathesis test: serve an app on loopback, run `st run` against it.

All phases (examples, coverage, fuzzing, stateful), authenticated; `positive_data_acceptance` is the
one excluded check, for the reason docs/security.md gives.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

STARTUP_DEADLINE_S = 20.0
# A fixed seed makes every CI run fuzz the same cases: a failure reproduces, a pass stays a pass.
# Explore further by running with QSR_FUZZ_SEED set to another number.
SEED = int(os.environ.get("QSR_FUZZ_SEED", "20261125"))


async def serving(app: FastAPI, *, name: str) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free loopback port; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while not server.started:
        assert not task.done() and time.monotonic() < deadline, f"{name} did not start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass(frozen=True)
class Report:
    returncode: int
    text: str

    @property
    def operations_tested(self) -> int:
        tested = re.search(r"Tested: (\d+)", self.text)
        return int(tested.group(1)) if tested else 0


async def run_schemathesis(base_url: str, *, token: str, cwd: Path, budget_s: int) -> Report:
    st = Path(sys.executable).with_name("st")
    process = await asyncio.create_subprocess_exec(
        str(st),
        "run",
        f"{base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-time",
        str(budget_s),
        "--workers",
        "1",
        "--seed",
        str(SEED),
        cwd=cwd,  # its example database and reports stay out of the checkout
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return Report(returncode=process.returncode, text=output.decode(errors="replace"))
