"""Parsed view of terraform/ (python-hcl2) for the project-rule tests."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"


@dataclass(frozen=True)
class Block:
    kind: str  # resource, data, module, variable, output, provider
    type: str  # e.g. aws_msk_cluster ("" for variable/output/module/provider names)
    name: str
    body: dict[str, Any]
    path: Path


def unquote(value: Any) -> Any:
    """hcl2 keeps string literals quoted ('"TLS"'); expressions stay '${...}'."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@functools.cache
def parsed(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        document: dict[str, Any] = hcl2.load(handle)
    return document


def tf_files() -> list[Path]:
    return sorted(TERRAFORM.rglob("*.tf"))


def blocks(kind: str, *, under: str = "") -> Iterator[Block]:
    for path in tf_files():
        if under and not str(path.relative_to(TERRAFORM)).startswith(under):
            continue
        for entry in parsed(path).get(kind, []):
            for first, inner in entry.items():
                if kind in ("resource", "data"):
                    for name, body in inner.items():
                        yield Block(kind, unquote(first), unquote(name), body, path)
                else:
                    yield Block(kind, "", unquote(first), inner, path)


def resources(resource_type: str) -> list[Block]:
    return [block for block in blocks("resource") if block.type == resource_type]


def first(body: dict[str, Any], key: str) -> dict[str, Any]:
    """The first nested block named `key` (hcl2 gives nested blocks as lists of dicts)."""
    value = body[key]
    nested: dict[str, Any] = value[0] if isinstance(value, list) else value
    return nested


def literals(node: Any) -> Iterator[str]:
    """Every string (unquoted) anywhere under node."""
    if isinstance(node, dict):
        for value in node.values():
            yield from literals(value)
    elif isinstance(node, list):
        for value in node:
            yield from literals(value)
    elif isinstance(node, str):
        yield unquote(node)


def statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every IAM statement-shaped mapping (has actions and resources) under node."""
    if isinstance(node, dict):
        if "actions" in node and "resources" in node:
            yield node
        for value in node.values():
            yield from statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from statements(value)


def skip_comments() -> list[tuple[Path, str, str]]:
    """(file, check id, reason) for every inline `#checkov:skip=ID:reason` comment."""
    found = []
    for path in tf_files():
        for match in re.finditer(
            r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?$", path.read_text(), re.M
        ):
            found.append((path, match.group(1), (match.group(2) or "").strip()))
    return found
