"""Shared inputs for the operator's tests: the example program and store, as spec models."""

from __future__ import annotations

import pytest

from qsr_kit.domain import specs
from qsr_operator.domain import children
from tests.qsr_operator.manifests import example_docs


@pytest.fixture
def program_spec() -> specs.LoyaltyProgramSpec:
    return specs.LoyaltyProgramSpec.model_validate(example_docs("LoyaltyProgram")[0]["spec"])


@pytest.fixture
def store_spec() -> specs.StoreIntegrationSpec:
    return specs.StoreIntegrationSpec.model_validate(example_docs("StoreIntegration")[0]["spec"])


@pytest.fixture
def owner() -> children.Owner:
    return children.Owner("LoyaltyProgram", "crispin-rewards", "brand-a", "uid-1")


@pytest.fixture
def env() -> children.Environment:
    return children.Environment(kafka_bootstrap="kafka:9092")
