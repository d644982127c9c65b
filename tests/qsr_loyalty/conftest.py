"""Shared fixtures of the loyalty tests: the example program, read from examples/program.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from qsr_kit.domain import specs

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example_program() -> specs.LoyaltyProgramSpec:
    doc = yaml.safe_load((EXAMPLES / "program.yaml").read_text())
    return specs.LoyaltyProgramSpec.model_validate(doc["spec"])


@pytest.fixture
def program() -> specs.LoyaltyProgramSpec:
    return example_program()
