"""Session fixtures for the real stack: each part starts on first use and stops at session end.

A part that fails to start fails every test that needs it, with the tail of its log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from qsr_devstack import testing
from qsr_devstack.processes import StartError

T = TypeVar("T")
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No tier is ever skipped: a skipped test fails the run, and so does a run with no tests."""
    if _skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"FAILED: {len(_skipped)} test(s) skipped: {_skipped[:5]}", red=True
            )


@pytest.fixture(scope="session")
def _stack() -> Iterator[testing.SessionStack]:
    stack = testing.SessionStack()
    try:
        yield stack
    finally:
        stack.close()


def _start(factory: Callable[[], T]) -> T:
    try:
        return factory()
    except StartError as exc:
        pytest.fail(f"stack part did not start:\n{exc}", pytrace=False)


@pytest.fixture(scope="session")
def kube(_stack: testing.SessionStack) -> testing.Kube:
    """etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok (one fake node)."""
    return _start(_stack.kube)


@pytest.fixture(scope="session")
def kafka(_stack: testing.SessionStack) -> testing.Kafka:
    """Apache Kafka 4.1, KRaft, one combined broker+controller, auto topic creation off."""
    return _start(_stack.kafka)


@pytest.fixture(scope="session")
def postgres(_stack: testing.SessionStack) -> testing.Postgres:
    """PostgreSQL 15; `.dsn` is a superuser, `.create_database(name)` gives a fresh database."""
    return _start(_stack.postgres)


@pytest.fixture(scope="session")
def redis(_stack: testing.SessionStack) -> testing.Redis:
    """Redis 7, no persistence."""
    return _start(_stack.redis)
