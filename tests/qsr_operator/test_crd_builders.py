"""The CRDs built from the spec models: structural, bounded, with CEL rules, and checked in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qsr_operator.domain import crds, schemas

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"


def _nodes(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(node, dict):
        return
    yield path, node
    for name, sub in node.get("properties", {}).items():
        yield from _nodes(sub, f"{path}.{name}")
    if "items" in node:
        yield from _nodes(node["items"], f"{path}[]")


def _spec(kind: crds.Kind) -> dict[str, Any]:
    return crds.spec_schema(kind)


def _rules(node: dict[str, Any]) -> list[str]:
    return [v["rule"] for v in node.get("x-kubernetes-validations", [])]


@pytest.mark.parametrize("name", sorted(crds.desired_crds()))
def test_checked_in_crd_matches_the_models(name: str) -> None:
    assert (CRD_DIR / name).read_text() == crds.render(crds.desired_crds()[name])


@pytest.mark.parametrize("kind", crds.KINDS, ids=lambda k: k.kind)
def test_schema_has_no_ref_anyof_or_closed_objects(kind: crds.Kind) -> None:
    banned = {"$ref", "anyOf", "oneOf", "allOf", "additionalProperties", "title", "const"}
    offenders = [p for p, node in _nodes(_spec(kind)) if banned & node.keys()]
    assert offenders == []


@pytest.mark.parametrize("kind", crds.KINDS, ids=lambda k: k.kind)
def test_every_schema_node_is_typed(kind: crds.Kind) -> None:
    assert [p for p, node in _nodes(_spec(kind)) if "type" not in node] == []


@pytest.mark.parametrize("kind", crds.KINDS, ids=lambda k: k.kind)
def test_every_list_and_free_string_is_bounded(kind: crds.Kind) -> None:
    unbounded = [
        p
        for p, node in _nodes(_spec(kind))
        if (node["type"] == "array" and "maxItems" not in node)
        or (node["type"] == "string" and "enum" not in node and "maxLength" not in node)
    ]
    assert unbounded == []


def test_optional_field_becomes_nullable_without_default() -> None:
    per_order = schemas.node_at(_spec(crds.PROGRAM), "earning.caps.perOrder")
    assert per_order == {"minimum": 1, "type": "integer", "nullable": True}


def test_object_default_keeps_values_and_drops_nulls() -> None:
    resources = schemas.node_at(_spec(crds.PROGRAM), "service.resources")
    assert resources["default"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    }


def test_enum_is_inlined_from_the_model() -> None:
    pos_type = schemas.node_at(_spec(crds.STORE), "pos.type")
    assert pos_type["enum"] == ["toast", "square", "ncr-aloha", "oracle-simphony", "generic"]


def test_exclusive_minimum_uses_the_openapi_v3_flag() -> None:
    cost = schemas.node_at(_spec(crds.PROGRAM), "rewards")["items"]["properties"]["cost"]
    assert (cost["minimum"], cost["exclusiveMinimum"]) == (0, True)


def test_partitions_rule_compares_with_old_self() -> None:
    partitions = schemas.node_at(_spec(crds.PROGRAM), "kafka.partitions")
    assert _rules(partitions) == ["self >= oldSelf"]


def test_store_id_is_immutable() -> None:
    assert _rules(schemas.node_at(_spec(crds.STORE), "storeId")) == ["self == oldSelf"]


def test_tier_rule_sits_on_the_tier_list() -> None:
    tiers = schemas.node_at(_spec(crds.PROGRAM), "tiering.tiers")
    assert ("isSorted()" in _rules(tiers)[0], tiers["x-kubernetes-list-map-keys"]) == (
        True,
        ["name"],
    )


def test_channels_are_a_set_of_at_least_one() -> None:
    channels = schemas.node_at(_spec(crds.STORE), "channels")
    assert (channels["x-kubernetes-list-type"], channels["minItems"], _rules(channels)) == (
        "set",
        1,
        ["size(self) >= 1"],
    )


def test_opening_hours_rule_sits_on_each_window() -> None:
    window = schemas.node_at(_spec(crds.STORE), "hours")["items"]
    assert _rules(window) == ["self.open != self.close"]


@pytest.mark.parametrize("kind", crds.KINDS, ids=lambda k: k.kind)
def test_crd_names_status_and_columns(kind: crds.Kind) -> None:
    crd = crds.desired_crd(kind)
    version = crd["spec"]["versions"][0]
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert (
        crd["spec"]["names"]["shortNames"],
        crd["spec"]["names"]["categories"],
        version["subresources"],
        columns[:2],
        columns[-1],
    ) == ([kind.short], ["qsr"], {"status": {}}, ["Ready", "Reason"], "Age")


def test_program_columns_show_stores_and_partitions() -> None:
    version = crds.desired_crd(crds.PROGRAM)["spec"]["versions"][0]
    assert [c["name"] for c in version["additionalPrinterColumns"]] == [
        "Ready",
        "Reason",
        "Stores",
        "Partitions",
        "Age",
    ]


def test_anyof_with_two_real_options_is_refused() -> None:
    from pydantic import BaseModel

    class Mixed(BaseModel):
        value: int | str

    with pytest.raises(ValueError, match="anyOf"):
        schemas.structural(Mixed)
