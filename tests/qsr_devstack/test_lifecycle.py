"""The stack stops everything it started: on `down`, on a dead parent, and on a failed start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qsr_devstack import processes

QSR = [sys.executable, "-m", "qsr_cli.main"]


def wait_dead(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while processes.is_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_failed_start_reports_the_tail_of_the_log(tmp_path: Path) -> None:
    proc = processes.start(
        "broken",
        ["sh", "-c", "echo 'fatal: port in use'; exit 3"],
        log=tmp_path / "broken.log",
        die_with_parent=True,
    )
    with pytest.raises(processes.StartError) as failed:
        processes.wait_healthy(proc, lambda: False, timeout=10)
    assert "broken exited (code 3)" in str(failed.value)
    assert "fatal: port in use" in str(failed.value)


def test_health_deadline_reports_the_last_check_error(tmp_path: Path) -> None:
    proc = processes.start("sleeper", ["sleep", "30"], log=tmp_path / "s.log", die_with_parent=True)

    def never() -> bool:
        raise ConnectionRefusedError("nothing listens")

    try:
        with pytest.raises(processes.StartError) as failed:
            processes.wait_healthy(proc, never, timeout=0.5)
    finally:
        processes.stop(proc.pid, popen=proc.popen)
    assert "not healthy within" in str(failed.value)
    assert "ConnectionRefusedError: nothing listens" in str(failed.value)
    assert not processes.is_alive(proc.pid)


@pytest.mark.redis
def test_cli_up_then_down_leaves_no_process(tmp_path: Path) -> None:
    state = ["--state-dir", str(tmp_path)]
    up = subprocess.run(
        [*QSR, "dev", "stack", "up", "redis", *state], capture_output=True, text=True, check=True
    )
    assert up.stdout.startswith("export QSR_REDIS_URL=redis://127.0.0.1:")
    stack_file = Path((tmp_path / "current").read_text())
    pid = json.loads(stack_file.read_text())["components"]["redis"]["pid"]
    assert processes.is_alive(pid)

    status = subprocess.run(
        [*QSR, "dev", "stack", "status", *state], capture_output=True, text=True
    )
    assert status.returncode == 0 and "redis" in status.stdout and "running" in status.stdout

    subprocess.run([*QSR, "dev", "stack", "down", *state], check=True, capture_output=True)
    assert wait_dead(pid)
    assert not stack_file.parent.exists()


@pytest.mark.redis
def test_children_die_when_the_test_process_is_killed(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from qsr_devstack.stack import Stack\n"
        "s = Stack.create(die_with_parent=True)\n"
        "s.start('redis')\n"
        "print(s.procs['redis'].pid, s.root, flush=True)\n"
        "sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        pid_text, root = parent.stdout.readline().split()
        pid = int(pid_text)
        assert processes.is_alive(pid)
        os.kill(parent.pid, signal.SIGKILL)  # no clean-up code of ours runs
        parent.wait()
    try:
        assert wait_dead(pid), "redis outlived the process that started it"
    finally:
        subprocess.run(["rm", "-rf", root], check=False)


@pytest.mark.redis
def test_a_port_taken_between_pick_and_bind_is_picked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    from qsr_devstack.stack import Stack

    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    taken = held.getsockname()[1]
    real_free_port = processes.free_port
    handed = iter([taken])
    # The first pick returns a port another process already holds: the race, made certain.
    monkeypatch.setattr(processes, "free_port", lambda: next(handed, None) or real_free_port())
    stack = Stack.create(die_with_parent=True)
    try:
        stack.start("redis")
        url = stack.endpoints["redis"]
        log = (stack.root / "redis.log").read_text()
    finally:
        stack.stop()
        held.close()
    assert "Address already in use" in log
    assert not url.endswith(f":{taken}/0")
