"""Every command the image, the chart and the operator start exists in the package."""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from pathlib import Path

from qsr_cli import serve

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
