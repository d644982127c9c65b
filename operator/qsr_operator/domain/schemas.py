"""Pydantic JSON Schema → Kubernetes structural OpenAPI v3 schema.

The API server accepts only structural schemas: every node typed, no `$ref`, no `anyOf` with null,
no `additionalProperties: false`, defaults without nulls. `crds.py` calls `structural()` per model.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

Schema = dict[str, Any]

# Bounds the CRD adds where the models leave sizes open, so the API server can estimate CEL cost.
DEFAULT_MAX_ITEMS = 1000
DEFAULT_MAX_LENGTH = 1024
HHMM_MAX_LENGTH = 5

_DROPPED = frozenset({"title", "examples", "additionalProperties", "$defs"})


def structural(model: type[BaseModel]) -> Schema:
    """The structural OpenAPI v3 schema of `model` on the wire (camelCase), with sizes bounded."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs: Mapping[str, Schema] = raw.get("$defs", {})
    return _convert(raw, defs)


def _resolve(node: Schema, defs: Mapping[str, Schema]) -> Schema:
    """Inline a `$ref`, letting the referring node's own keys (default, description) win."""
    if "$ref" not in node:
        return node
    target = copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]])
    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return _resolve(merged, defs)


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def _convert(node: Schema, defs: Mapping[str, Schema]) -> Schema:
    node = _resolve(node, defs)
    nullable = False
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if o.get("type") != "null"]
        nullable = len(options) < len(node["anyOf"])
        if len(options) != 1:
            raise ValueError(f"cannot make a structural schema from anyOf {node['anyOf']!r}")
        outer = {k: v for k, v in node.items() if k != "anyOf"}
        node = {**_resolve(options[0], defs), **outer}
    out: Schema = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "properties":
            out["properties"] = {name: _convert(sub, defs) for name, sub in value.items()}
        elif key == "items":
            out["items"] = _convert(value, defs)
        elif key == "const":
            out["enum"] = [value]
        elif key == "exclusiveMinimum":
            # JSON Schema 2020 puts the bound here; OpenAPI v3.0 wants a flag beside `minimum`.
            out["minimum"] = value
            out["exclusiveMinimum"] = True
        elif key == "exclusiveMaximum":
            out["maximum"] = value
            out["exclusiveMaximum"] = True
        elif key == "default":
            if value is not None:
                out["default"] = _strip_nulls(value)
        else:
            out[key] = copy.deepcopy(value)
    if nullable:
        out["nullable"] = True
    _bound_sizes(out)
    return out


def _bound_sizes(out: Schema) -> None:
    kind = out.get("type")
    if kind == "array":
        out.setdefault("maxItems", DEFAULT_MAX_ITEMS)
    elif kind == "string" and "enum" not in out:
        if out.get("pattern", "").startswith("^([01][0-9]|2[0-3])"):
            out.setdefault("maxLength", HHMM_MAX_LENGTH)
        out.setdefault("maxLength", DEFAULT_MAX_LENGTH)
    elif kind is None and "enum" not in out:
        raise ValueError(f"untyped schema node {out!r}")


def node_at(schema: Schema, path: str) -> Schema:
    """The sub-schema at a dotted path; `[]` steps into array items (`tiering.tiers[]`)."""
    node = schema
    for part in filter(None, path.split(".")):
        if part.endswith("[]"):
            node = node["properties"][part[:-2]]["items"]
        else:
            node = node["properties"][part]
    return node
