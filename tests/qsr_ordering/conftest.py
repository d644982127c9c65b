"""Ordering service fixtures: the CMS simulator on real HTTP, databases per backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from qsr_hub.simulators import cms
from qsr_hub.simulators.serving import Server


@pytest.fixture(scope="session")
def cms_url() -> Iterator[str]:
    with Server(cms.create_app(), name="cms-for-ordering") as server:
        yield server.url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ordering.db'}"
    return str(
        request.getfixturevalue("postgres").create_database(f"ordering_{uuid.uuid4().hex[:12]}")
    )
