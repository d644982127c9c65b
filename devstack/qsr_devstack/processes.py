"""Starting, watching and stopping one real process of the stack.

Each process runs in its own session (so a stop reaches its children too), writes to its own log
file, and — when started for a test run — gets SIGTERM from the kernel if the starting process dies,
so an interrupted or killed pytest leaves nothing behind.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.1


class StartError(RuntimeError):
    """A component did not become healthy; the message carries the tail of its log."""


@dataclass(frozen=True)
class Started:
    name: str
    pid: int
    log: Path
    popen: subprocess.Popen[bytes] | None = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(text.splitlines()[-lines:])


def _preexec(user: str | None, die_with_parent: bool) -> Callable[[], None]:
    ids = None
    if user is not None:
        entry = pwd.getpwnam(user)
        ids = (entry.pw_uid, entry.pw_gid)

    def prepare() -> None:
        if ids is not None:
            os.setgid(ids[1])
            os.setuid(ids[0])
        if die_with_parent:
            # Set after setuid: a credential change clears the parent-death signal (prctl(2)).
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return prepare


def start(
    name: str,
    argv: Sequence[str | Path],
    *,
    log: Path,
    die_with_parent: bool,
    env: dict[str, str] | None = None,
    user: str | None = None,
) -> Started:
    with log.open("ab") as out:
        popen = subprocess.Popen(
            [str(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            preexec_fn=_preexec(user, die_with_parent),
        )
    return Started(name=name, pid=popen.pid, log=log, popen=popen)


def run_once(name: str, argv: Sequence[str | Path], *, log: Path, user: str | None = None) -> None:
    """Run a set-up command (initdb, storage format) to completion, failing with its output."""
    with log.open("ab") as out:
        code = subprocess.call(
            [str(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_preexec(user, die_with_parent=True),
        )
    if code != 0:
        raise StartError(f"{name} set-up failed with exit code {code}:\n{log_tail(log)}")


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_healthy(
    proc: Started, check: Callable[[], bool], *, timeout: float, what: str = "healthy"
) -> None:
    """Poll `check` until it passes; fail at once if the process exits, or at the deadline."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        exited = _exit_code(proc)
        if exited is not None or (proc.popen is None and not is_alive(proc.pid)):
            raise StartError(
                f"{proc.name} exited (code {exited}) before it was {what}; log {proc.log}:\n"
                f"{log_tail(proc.log)}"
            )
        try:
            if check():
                return
        except Exception as exc:  # the check's own failures mean "not yet"
            last_error = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise StartError(
                f"{proc.name} was not {what} within {timeout:.0f} s ({last_error}); "
                f"log {proc.log}:\n{log_tail(proc.log)}"
            )
        time.sleep(POLL_SECONDS)


def _exit_code(proc: Started) -> int | None:
    """The exit code if the process has ended, reaping it (a child that ended between two checks
    is a zombie that only `wait` collects; unreaped, it makes Popen warn later)."""
    if proc.popen is None:
        return None
    code = proc.popen.poll()
    if code is None and not is_alive(proc.pid):
        code = proc.popen.wait(timeout=5)
    return code


def process_group_rss(pgid: int) -> int:
    """Resident memory of every process in the group (postgres forks its workers into it)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def stop(pid: int, *, popen: subprocess.Popen[bytes] | None = None, timeout: float = 15) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `timeout`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if popen is not None and popen.poll() is not None and not _group_alive(pid):
                return
            if popen is None and not is_alive(pid) and not _group_alive(pid):
                return
            time.sleep(POLL_SECONDS)
    if popen is not None:
        popen.wait(timeout=5)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # Zombies still count for killpg; only live members matter.
    return process_group_rss(pgid) > 0
