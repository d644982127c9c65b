"""Every command the image, the chart and the operator start exists in the package."""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from pydantic_settings import BaseSettings

from qsr_cli import serve
from qsr_kit.domain import specs
from qsr_operator.domain import children
from tests.delivery import chart

ROOT = Path(__file__).resolve().parents[2]


def console_scripts() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    scripts: dict[str, str] = project["scripts"]
    return scripts


def resolves(target: str) -> bool:
    module, _, attribute = target.partition(":")
    return callable(getattr(importlib.import_module(module), attribute, None))


def dockerfile_cmd() -> list[str]:
    match = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)
    assert match, "the Dockerfile has no exec-form CMD"
    command: list[str] = json.loads(match.group(1))
    return command


def test_image_default_command_is_a_console_script() -> None:
    program = dockerfile_cmd()[0]
    assert program in console_scripts()
    assert resolves(console_scripts()[program])


def test_qsr_console_script_resolves_to_the_cli() -> None:
    assert resolves(console_scripts()["qsr"])


def test_every_platform_service_has_a_serve_name() -> None:
    assert {service.value for service in serve.Service} >= {
        "identity",
        "ordering",
        "hub",
        "loyalty",
    }


def chart_commands() -> list[list[str]]:
    manifests = chart.render()
    return [
        container["command"]
        for _, spec in chart.pod_specs(manifests)
        for container in spec["containers"]
    ]


def operator_commands() -> list[list[str]]:
    program = next(
        doc
        for doc in yaml.safe_load_all((ROOT / "examples" / "program.yaml").read_text())
        if doc and doc["kind"] == "LoyaltyProgram"
    )
    owner = children.Owner(kind="LoyaltyProgram", name="p", namespace="ns", uid="u")
    deployment = children.desired_deployment(
        owner,
        specs.LoyaltyProgramSpec.model_validate(program["spec"]),
        env=children.Environment(kafka_bootstrap="kafka:9092"),
        config_checksum="sha256:0",
    )
    return [c["command"] for c in deployment["spec"]["template"]["spec"]["containers"]]


def test_every_chart_and_operator_command_is_a_console_script() -> None:
    commands = chart_commands() + operator_commands()
    assert len(commands) >= 5
    for command in commands:
        assert command[0] in console_scripts(), command
        assert resolves(console_scripts()[command[0]]), command


def test_every_served_service_name_is_one_qsr_serve_accepts() -> None:
    served = {c[2] for c in chart_commands() + operator_commands() if c[:2] == ["qsr", "serve"]}
    assert served == {"identity", "ordering", "hub", "hub-ingest", "loyalty"}
    assert served <= {service.value for service in serve.Service}
    assert served <= {service.value for service in serve.APPS}
    for service, target in serve.APPS.items():
        assert resolves(target), service


def settings_fields(module_name: str) -> set[str]:
    module = importlib.import_module(module_name)
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseSettings) and value is not BaseSettings
    ]
    return {field.upper() for cls in classes for field in cls.model_fields}


def test_every_qsr_variable_the_chart_sets_is_a_settings_field() -> None:
    # Settings classes reject unknown QSR_<SERVICE>_* variables: a stray one stops the pod.
    manifests = chart.render(
        "--set", "postgres.existingSecret=db", "--set", "redis.existingSecret=cache",
        "--set", "storeConfig.existingSecret=stores",
    )  # fmt: skip
    modules = {
        "qsr-operator": ("QSR_OPERATOR_", "qsr_operator.settings"),
        "qsr-identity": ("QSR_IDENTITY_", "qsr_identity.settings"),
        "qsr-ordering": ("QSR_ORDERING_", "qsr_ordering.settings"),
        "qsr-hub": ("QSR_HUB_", "qsr_hub.settings"),
        "qsr-hub-ingest": ("QSR_HUB_", "qsr_hub.settings"),  # the hub's settings, its own process
    }
    for name, spec in chart.pod_specs(manifests):
        prefix, module_name = modules[name]
        fields = settings_fields(module_name)
        names = {env["name"] for c in spec["containers"] for env in c["env"]}
        ours = {n.removeprefix(prefix) for n in names if n.startswith(prefix)}
        assert ours, name
        assert ours <= fields, (name, ours - fields)


def test_operator_settings_parse_from_the_chart_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from qsr_operator.settings import Settings

    deployment = chart.named(chart.render(namespace="brand-a"), "Deployment", "qsr-operator")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    for env in container["env"]:
        if env["name"].startswith("QSR_OPERATOR_"):
            monkeypatch.setenv(env["name"], env["value"])
    settings = Settings()
    assert settings.namespaces == ["brand-a"]
    assert settings.metrics_address == "0.0.0.0"
    assert settings.liveness_endpoint == "http://0.0.0.0:8081/healthz"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": settings.metrics_port, "health": 8081}
