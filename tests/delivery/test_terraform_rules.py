"""Project rules over the parsed Terraform: encryption everywhere, nothing public, tags on every
resource, no wildcard IAM, MSK on IAM + TLS, IRSA scoped per component, validated variables."""

from __future__ import annotations

import re

import pytest

from tests.delivery.terraform_hcl import (
    TERRAFORM,
    blocks,
    first,
    parsed,
    resources,
    statements,
    unquote,
)

# AWS resource types whose API has no tags; everything else must carry `tags`.
UNTAGGABLE = {
    "aws_backup_selection": "a selection is a plan attribute, not a taggable resource",
    "aws_ecr_lifecycle_policy": "a policy document attached to the repository",
    "aws_iam_role_policy": "an inline policy is part of its role",
    "aws_iam_role_policy_attachment": "an attachment is a relation, not a resource",
    "aws_kms_alias": "aliases are not taggable in KMS",
    "aws_msk_configuration": "MSK configurations take no tags",
    "aws_route": "a route is an entry of its route table",
    "aws_route_table_association": "an association is a relation",
    "aws_s3_bucket_lifecycle_configuration": "a sub-resource of the tagged bucket",
    "aws_s3_bucket_ownership_controls": "a sub-resource of the tagged bucket",
    "aws_s3_bucket_policy": "a sub-resource of the tagged bucket",
    "aws_s3_bucket_public_access_block": "a sub-resource of the tagged bucket",
    "aws_s3_bucket_server_side_encryption_configuration": "a sub-resource of the tagged bucket",
    "aws_s3_bucket_versioning": "a sub-resource of the tagged bucket",
    "aws_secretsmanager_secret_version": "a version of the tagged secret",
}
READ_ONLY_VERBS = ("Describe", "Get", "List")
QUOTED_IAM_ACTION = re.compile(
    r'"((?:autoscaling|ec2|eks|iam|kafka-cluster|kms|logs|s3|sts):[A-Za-z0-9*?]+)"'
)
ENVS = ("dev", "prod")


def aws_resources() -> list[tuple[str, str, dict[str, object], str]]:
    return [
        (block.type, block.name, block.body, str(block.path.relative_to(TERRAFORM)))
        for block in blocks("resource")
        if block.type.startswith("aws_")
    ]


def test_every_aws_resource_is_tagged() -> None:
    untagged = [
        f"{where}: {kind}.{name}"
        for kind, name, body, where in aws_resources()
        if kind not in UNTAGGABLE and "tags" not in body
    ]
    assert untagged == []


@pytest.mark.parametrize("env", ENVS)
def test_every_environment_sets_default_tags_on_the_aws_provider(env: str) -> None:
    providers = [block for block in blocks("provider", under=f"envs/{env}") if block.name == "aws"]
    assert len(providers) == 1
    assert "default_tags" in providers[0].body


def test_msk_uses_iam_auth_and_tls_only() -> None:
    (cluster,) = resources("aws_msk_cluster")
    auth = first(cluster.body, "client_authentication")
    assert auth["unauthenticated"] is False
    assert first(auth, "sasl")["iam"] is True
    assert first(auth, "sasl")["scram"] is False
    encryption = first(cluster.body, "encryption_info")
    in_transit = first(encryption, "encryption_in_transit")
    assert unquote(in_transit["client_broker"]) == "TLS"
    assert in_transit["in_cluster"] is True
    assert encryption["encryption_at_rest_kms_key_arn"].startswith("${var.")


def test_msk_brokers_have_no_public_access_and_only_the_iam_port_open() -> None:
    (cluster,) = resources("aws_msk_cluster")
    connectivity = first(first(cluster.body, "broker_node_group_info"), "connectivity_info")
    assert unquote(first(connectivity, "public_access")["type"]) == "DISABLED"
    ports = {
        (rule.body["from_port"], rule.body["to_port"])
        for rule in blocks("resource", under="modules/msk")
        if rule.type == "aws_vpc_security_group_ingress_rule"
    }
    assert ports == {(9098, 9098)}


@pytest.mark.parametrize(
    ("resource_type", "flag"),
    [
        pytest.param("aws_rds_cluster", "storage_encrypted", id="aurora"),
        pytest.param("aws_elasticache_replication_group", "at_rest_encryption_enabled", id="cache"),
        pytest.param(
            "aws_elasticache_replication_group", "transit_encryption_enabled", id="cache-tls"
        ),
    ],
)
def test_stores_encrypt_with_a_customer_key(resource_type: str, flag: str) -> None:
    (store,) = resources(resource_type)
    assert store.body[flag] is True
    assert store.body["kms_key_id"].startswith("${var.")


@pytest.mark.parametrize(
    "resource_type",
    ["aws_cloudwatch_log_group", "aws_secretsmanager_secret"],
)
def test_every_log_group_and_secret_uses_a_customer_key(resource_type: str) -> None:
    found = resources(resource_type)
    assert found
    assert [block.name for block in found if "kms_key_id" not in block.body] == []


def test_eks_encrypts_secrets_and_node_volumes() -> None:
    (cluster,) = resources("aws_eks_cluster")
    config = first(cluster.body, "encryption_config")
    assert [unquote(item) for item in config["resources"]] == ["secrets"]
    (template,) = resources("aws_launch_template")
    ebs = first(first(template.body, "block_device_mappings"), "ebs")
    assert ebs["encrypted"] is True
    assert "kms_key_id" in ebs


def test_ecr_dynamodb_and_state_bucket_use_kms() -> None:
    (repository,) = resources("aws_ecr_repository")
    assert unquote(first(repository.body, "encryption_configuration")["encryption_type"]) == "KMS"
    (table,) = resources("aws_dynamodb_table")
    assert first(table.body, "server_side_encryption")["enabled"] is True
    (sse,) = resources("aws_s3_bucket_server_side_encryption_configuration")
    default = first(first(sse.body, "rule"), "apply_server_side_encryption_by_default")
    assert unquote(default["sse_algorithm"]) == "aws:kms"


def test_every_kms_key_rotates() -> None:
    keys = resources("aws_kms_key")
    assert keys
    assert all(key.body["enable_key_rotation"] is True for key in keys)


def test_no_database_instance_or_subnet_is_public() -> None:
    assert all(
        i.body["publicly_accessible"] is False for i in resources("aws_rds_cluster_instance")
    )
    subnets = resources("aws_subnet")
    assert subnets
    assert all(subnet.body["map_public_ip_on_launch"] is False for subnet in subnets)


def test_no_ingress_rule_is_open_to_the_internet() -> None:
    rules = resources("aws_vpc_security_group_ingress_rule")
    assert rules
    open_rules = [
        rule.name
        for rule in rules
        if unquote(rule.body.get("cidr_ipv4", "")) == "0.0.0.0/0"
        or unquote(rule.body.get("cidr_ipv6", "")) == "::/0"
    ]
    assert open_rules == []
    assert resources("aws_security_group_rule") == []


def test_eks_api_is_private_unless_named_cidrs_are_given() -> None:
    (cluster,) = resources("aws_eks_cluster")
    vpc = first(cluster.body, "vpc_config")
    assert vpc["endpoint_private_access"] is True
    assert "length(var.public_access_cidrs) > 0" in vpc["endpoint_public_access"]


def test_state_bucket_blocks_every_kind_of_public_access() -> None:
    (block,) = resources("aws_s3_bucket_public_access_block")
    flags = (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    )
    assert all(block.body[flag] is True for flag in flags)


def test_no_iam_action_is_a_wildcard() -> None:
    # Raw text, not parsed literals: actions inside for-expressions stay unparsed strings.
    actions = {
        match.group(1)
        for path in TERRAFORM.rglob("*.tf")
        for line in path.read_text().splitlines()
        if not line.lstrip().startswith(("#", "//"))
        for match in QUOTED_IAM_ACTION.finditer(line)
    }
    assert "kafka-cluster:Connect" in actions
    assert sorted(action for action in actions if "*" in action or "?" in action) == []


def test_resource_star_only_in_key_policies_or_for_read_only_discovery() -> None:
    offenders = []
    for path in TERRAFORM.rglob("*.tf"):
        in_key_module = path.parent.name == "kms"
        for statement in statements(parsed(path)):
            resources_ = [unquote(item) for item in statement["resources"]]
            if "*" not in resources_ or in_key_module:
                continue
            actions = [unquote(item) for item in statement["actions"]]
            if not all(action.split(":")[1].startswith(READ_ONLY_VERBS) for action in actions):
                offenders.append(f"{path.relative_to(TERRAFORM)}: {actions}")
    assert offenders == []


def irsa_locals() -> dict[str, object]:
    document = parsed(TERRAFORM / "modules" / "irsa" / "main.tf")
    merged: dict[str, object] = {}
    for entry in document["locals"]:
        merged.update(entry)
    return merged


def actions_of(statement_list: object) -> set[str]:
    return {
        unquote(action)
        for statement in statements(statement_list)
        for action in statement["actions"]
        if isinstance(action, str)
    }


def test_operator_role_administers_topics() -> None:
    granted = actions_of(irsa_locals()["operator_statements"])
    admin = {"kafka-cluster:CreateTopic", "kafka-cluster:AlterTopic", "kafka-cluster:DeleteTopic"}
    assert admin <= granted


def test_service_roles_cannot_create_alter_or_delete_topics() -> None:
    names = ("produce", "consume", "park", "group")
    granted = {unquote(a) for name in names for a in irsa_locals()[f"service_{name}_actions"]}  # type: ignore[attr-defined]
    assert {"kafka-cluster:WriteData", "kafka-cluster:ReadData"} <= granted
    assert {a for a in granted if a.endswith(("CreateTopic", "AlterTopic", "DeleteTopic"))} == set()


def test_service_topic_grants_name_their_streams() -> None:
    arns = str(irsa_locals()["stream_arns"])
    assert "${local.prefix}.*.${stream}" in arns
    assert "${local.prefix}.*.${stream}.*" in arns


def test_each_irsa_role_trusts_exactly_one_service_account() -> None:
    (trust,) = [b for b in blocks("data", under="modules/irsa") if b.name == "trust"]
    conditions = first(trust.body, "statement")["condition"]
    variables = {unquote(condition["variable"]).rsplit(":", 1)[1] for condition in conditions}
    assert variables == {"sub", "aud"}
    (sub,) = [c for c in conditions if unquote(c["variable"]).endswith(":sub")]
    assert unquote(sub["test"]) == "StringEquals"
    assert len(sub["values"]) == 1


@pytest.mark.parametrize("env", ENVS)
def test_environment_keeps_state_in_s3_with_a_dynamodb_lock(env: str) -> None:
    backend = first(parsed(TERRAFORM / "envs" / env / "backend.tf")["terraform"][0], "backend")
    s3 = backend['"s3"']
    assert s3["encrypt"] is True
    assert unquote(s3["dynamodb_table"])
    assert unquote(s3["key"]).startswith(f"qsr-platform/{env}/")


@pytest.mark.parametrize("env", ENVS)
def test_environment_variables_are_described_typed_and_validated(env: str) -> None:
    variables = list(blocks("variable", under=f"envs/{env}"))
    assert variables
    lacking = [
        v.name for v in variables if not {"description", "type", "validation"} <= set(v.body)
    ]
    assert lacking == []


def test_every_variable_and_output_is_documented() -> None:
    undocumented = [
        f"{block.path.relative_to(TERRAFORM)}: {block.name}"
        for kind in ("variable", "output")
        for block in blocks(kind)
        if not unquote(block.body.get("description", ""))
    ]
    assert undocumented == []


def test_release_installs_the_repository_chart() -> None:
    (release,) = resources("helm_release")
    assert unquote(release.body["chart"]) == "${var.chart_path}"
    for env in ENVS:
        (module,) = [m for m in blocks("module", under=f"envs/{env}") if m.name == "release"]
        chart = unquote(module.body["chart_path"]).replace(
            "${path.root}", str(TERRAFORM / "envs" / env)
        )
        assert (TERRAFORM / "envs" / env / chart).resolve() == (
            TERRAFORM.parent / "charts" / "qsr-platform"
        )
